/* perf_curve: the libzmq side of azmq's CURVE benchmark (scripts/bench-curve.sh).
 * A benchmark tool only: it is not part of the Go module, which has no cgo.
 *
 * Build (needs libzmq built with CURVE, e.g. the libzmq3-dev package):
 *   gcc -O2 -o perf_curve perf_curve.c $(pkg-config --cflags --libs libzmq)
 *
 * Usage, the command-line protocol of `azmq bench MODE ...`:
 *   perf_curve local_thr  ENDPOINT SIZE COUNT   PULL binds, receives COUNT messages
 *   perf_curve remote_thr ENDPOINT SIZE COUNT   PUSH connects, sends COUNT messages
 *   perf_curve local_lat  ENDPOINT SIZE COUNT   REP binds, echoes COUNT messages
 *   perf_curve remote_lat ENDPOINT SIZE COUNT   REQ connects, makes COUNT round trips
 * local_thr prints `msgs_per_s=N mb_per_s=N`, timed from the first message received
 * to the last; remote_lat prints `rtt_us=N latency_us=N`. A local side given a
 * wildcard endpoint (tcp://127.0.0.1:*) prints the one it bound as `endpoint=...`
 * on stderr, so a script can start the remote side once it is listening.
 *
 * CURVE, with the same variables as azmq (Z85, 40 characters each):
 *   AZMQ_BENCH_CURVE_SERVER_SECRET   the binding side is a CURVE server with this key
 *   AZMQ_BENCH_CURVE_SERVER_PUBLIC   the connecting side is a CURVE client of this
 *                                    server, with a key pair made for the run
 * With neither set the sockets use NULL security.
 *
 * The sender hands libzmq the same constant buffer for every message
 * (zmq_msg_init_data without a free function), as azmq's remote_thr hands Send
 * the same slice: neither side pays for filling or copying the payload. */
#include <zmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEY_LEN 40 /* a CURVE key in Z85 */

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char *what) {
    fprintf(stderr, "perf_curve: %s: %s\n", what, zmq_strerror(zmq_errno()));
    exit(1);
}

static void fail(const char *msg) {
    fprintf(stderr, "perf_curve: %s\n", msg);
    exit(2);
}

static void set_opt(void *s, int opt, const void *v, size_t len, const char *what) {
    if (zmq_setsockopt(s, opt, v, len) != 0) die(what);
}

/* curve makes s a CURVE server (binding side) or client (connecting side) when
 * the key variables are set; it returns 1 if it did. */
static int curve(void *s, int server) {
    const char *secret = getenv("AZMQ_BENCH_CURVE_SERVER_SECRET");
    const char *public = getenv("AZMQ_BENCH_CURVE_SERVER_PUBLIC");
    if (secret && !*secret) secret = NULL;
    if (public && !*public) public = NULL;
    if (!secret && !public) return 0;
    if (!zmq_has("curve")) fail("this libzmq was built without CURVE");
    if (server) {
        if (!secret || strlen(secret) != KEY_LEN)
            fail("the binding side needs AZMQ_BENCH_CURVE_SERVER_SECRET (40 Z85 characters)");
        int on = 1;
        set_opt(s, ZMQ_CURVE_SERVER, &on, sizeof on, "ZMQ_CURVE_SERVER");
        set_opt(s, ZMQ_CURVE_SECRETKEY, secret, KEY_LEN, "ZMQ_CURVE_SECRETKEY");
        return 1;
    }
    if (!public || strlen(public) != KEY_LEN)
        fail("the connecting side needs AZMQ_BENCH_CURVE_SERVER_PUBLIC (40 Z85 characters)");
    char pub[KEY_LEN + 1], sec[KEY_LEN + 1];
    if (zmq_curve_keypair(pub, sec) != 0) die("zmq_curve_keypair");
    set_opt(s, ZMQ_CURVE_SERVERKEY, public, KEY_LEN, "ZMQ_CURVE_SERVERKEY");
    set_opt(s, ZMQ_CURVE_PUBLICKEY, pub, KEY_LEN, "ZMQ_CURVE_PUBLICKEY");
    set_opt(s, ZMQ_CURVE_SECRETKEY, sec, KEY_LEN, "ZMQ_CURVE_SECRETKEY");
    return 1;
}

static void *open_socket(void *ctx, int type, int server, int linger) {
    void *s = zmq_socket(ctx, type);
    if (!s) die("zmq_socket");
    set_opt(s, ZMQ_LINGER, &linger, sizeof linger, "ZMQ_LINGER");
    curve(s, server);
    return s;
}

/* bind_report binds and, for a wildcard endpoint, prints the one bound. */
static void bind_report(void *s, const char *ep) {
    if (zmq_bind(s, ep) != 0) die("zmq_bind");
    char last[256];
    size_t len = sizeof last;
    if (zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, last, &len) == 0 && strcmp(last, ep) != 0) {
        fprintf(stderr, "endpoint=%s\n", last);
        fflush(stderr);
    }
}

static void recv_check(zmq_msg_t *m, void *s, size_t size) {
    if (zmq_msg_recv(m, s, 0) < 0) die("zmq_msg_recv");
    if (zmq_msg_size(m) != size || zmq_msg_more(m)) {
        fprintf(stderr, "perf_curve: received %zu bytes (more=%d), want one frame of %zu\n",
                zmq_msg_size(m), zmq_msg_more(m), size);
        exit(1);
    }
}

static void local_thr(void *ctx, const char *ep, size_t size, long count) {
    void *s = open_socket(ctx, ZMQ_PULL, 1, 0);
    bind_report(s, ep);
    zmq_msg_t m;
    zmq_msg_init(&m);
    recv_check(&m, s, size);
    double t0 = now();
    for (long i = 1; i < count; i++) recv_check(&m, s, size);
    double dt = now() - t0;
    zmq_msg_close(&m);
    double mps = count > 1 && dt > 0 ? (count - 1) / dt : 0;
    printf("msgs_per_s=%.0f mb_per_s=%.1f\n", mps, mps * size / 1e6);
    fflush(stdout);
    zmq_close(s);
}

static void remote_thr(void *ctx, const char *ep, const char *payload, size_t size, long count) {
    /* linger -1: zmq_ctx_term in main returns once every message is written */
    void *s = open_socket(ctx, ZMQ_PUSH, 0, -1);
    if (zmq_connect(s, ep) != 0) die("zmq_connect");
    for (long i = 0; i < count; i++) {
        zmq_msg_t m;
        if (zmq_msg_init_data(&m, (void *)payload, size, NULL, NULL) != 0) die("zmq_msg_init_data");
        if (zmq_msg_send(&m, s, 0) < 0) die("zmq_msg_send");
    }
    zmq_close(s);
}

static void local_lat(void *ctx, const char *ep, size_t size, long count) {
    void *s = open_socket(ctx, ZMQ_REP, 1, -1);
    bind_report(s, ep);
    zmq_msg_t m;
    zmq_msg_init(&m);
    for (long i = 0; i < count; i++) {
        recv_check(&m, s, size);
        if (zmq_msg_send(&m, s, 0) < 0) die("zmq_msg_send");
    }
    zmq_msg_close(&m);
    zmq_close(s);
}

static void remote_lat(void *ctx, const char *ep, const char *payload, size_t size, long count) {
    void *s = open_socket(ctx, ZMQ_REQ, 0, 0);
    if (zmq_connect(s, ep) != 0) die("zmq_connect");
    zmq_msg_t m;
    double t0 = now();
    for (long i = 0; i < count; i++) {
        if (zmq_msg_init_data(&m, (void *)payload, size, NULL, NULL) != 0) die("zmq_msg_init_data");
        if (zmq_msg_send(&m, s, 0) < 0) die("zmq_msg_send");
        zmq_msg_init(&m);
        recv_check(&m, s, size);
        zmq_msg_close(&m);
    }
    double rtt = (now() - t0) / count * 1e6;
    printf("rtt_us=%.2f latency_us=%.2f\n", rtt, rtt / 2);
    fflush(stdout);
    zmq_close(s);
}

/* parse_count reads a non-negative decimal number; it exits on anything else. */
static long parse_count(const char *s, const char *what, long min) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < min) {
        fprintf(stderr, "perf_curve: %s %s is not a number >= %ld\n", what, s, min);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: perf_curve local_thr|remote_thr|local_lat|remote_lat ENDPOINT SIZE COUNT\n"
                        "CURVE: AZMQ_BENCH_CURVE_SERVER_SECRET (binding side), "
                        "AZMQ_BENCH_CURVE_SERVER_PUBLIC (connecting side)\n");
        return 2;
    }
    const char *mode = argv[1], *ep = argv[2];
    size_t size = (size_t)parse_count(argv[3], "SIZE", 0);
    long count = parse_count(argv[4], "COUNT", 1);
    char *payload = malloc(size ? size : 1);
    if (!payload) fail("out of memory");
    memset(payload, 'x', size);

    void *ctx = zmq_ctx_new();
    if (!ctx) die("zmq_ctx_new");
    if (!strcmp(mode, "local_thr") || !strcmp(mode, "thr_local")) local_thr(ctx, ep, size, count);
    else if (!strcmp(mode, "remote_thr") || !strcmp(mode, "thr_remote")) remote_thr(ctx, ep, payload, size, count);
    else if (!strcmp(mode, "local_lat") || !strcmp(mode, "lat_local")) local_lat(ctx, ep, size, count);
    else if (!strcmp(mode, "remote_lat") || !strcmp(mode, "lat_remote")) remote_lat(ctx, ep, payload, size, count);
    else {
        fprintf(stderr, "perf_curve: unknown mode %s\n", mode);
        return 2;
    }
    zmq_ctx_term(ctx);
    free(payload);
    return 0;
}
