/* workloads: libzmq's side of the fan-out and broker workloads
 * (scripts/bench-fanout.sh, scripts/bench-broker.sh), with the command line,
 * the messages and the output of azmq's side (bench/workloads), so that either
 * side runs against either. A benchmark tool only: it is not part of the Go
 * module, which has no cgo.
 *
 * Build (needs libzmq's development files, e.g. the libzmq3-dev package):
 *   gcc -O2 -o workloads workloads.c $(pkg-config --cflags --libs libzmq)
 *
 * Usage:
 *   workloads pub    CONNS TOPICS SIZE SECS HWM TIMEOUT_S
 *   workloads sub    ENDPOINT CONTROL CONNS TOPICS HWM TIMEOUT_S
 *   workloads router CONNS HWM TIMEOUT_S
 *   workloads dealer ENDPOINT CONNS SIZE SECS TIMEOUT_S
 * See bench/workloads/main.go for what each does and prints. The client sides
 * (sub, dealer) run all their sockets from one thread with zmq_poll, as a
 * libzmq program with many sockets does. WL_IO_THREADS sets the context's
 * I/O threads (libzmq's default, 1, when unset).
 *
 * Message layout (little-endian): [0:5] topic "t%04d", [5] kind ('W' warm-up,
 * 'D' data, 'E' end; 'H' hello, 'R' request, 'Q' quit on the broker),
 * [6:14] the topic's sequence number (data) or the number of data messages
 * sent to it (end), [14:22] the send time, wall-clock ns (CLOCK_REALTIME). */
#include <zmq.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HDR_LEN 22
#define MAX_CONN 10000

static const char *mode = "?";

static void die(const char *what) {
    fprintf(stderr, "workloads %s: %s: %s\n", mode, what, zmq_strerror(zmq_errno()));
    exit(1);
}

static void fail(const char *msg) {
    fprintf(stderr, "workloads %s: %s\n", mode, msg);
    exit(2);
}

static int64_t wall_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int64_t mono_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static long num(const char *s, const char *name, long lo, long hi) {
    char *end;
    long n = strtol(s, &end, 10);
    if (*s == 0 || *end != 0 || n < lo || n > hi) {
        fprintf(stderr, "workloads %s: %s \"%s\": want an integer in %ld..%ld\n", mode, name, s, lo, hi);
        exit(2);
    }
    return n;
}

static int topics_arg(const char *s) {
    if (strcmp(s, "one") == 0) return 0;
    if (strcmp(s, "distinct") == 0) return 1;
    fail("TOPICS: want one or distinct");
    return 0;
}

static void put64(unsigned char *b, uint64_t v) {
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get64(const unsigned char *b) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | b[i];
    return v;
}

static void put_hdr(unsigned char *b, int topic, char kind, uint64_t seq, int64_t ts) {
    char t[16];
    snprintf(t, sizeof t, "t%04d", topic);
    memcpy(b, t, 5);
    b[5] = (unsigned char)kind;
    put64(b + 6, seq);
    put64(b + 14, (uint64_t)ts);
}

/* rss_kib is VmRSS in KiB, -1 where unknown. */
static long rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

/* The memory figures of the binding side; libzmq has no goroutines, so 0. */
static void print_mem(long base, long conn, long end, int conns) {
    printf("rss_base_kib=%ld rss_conn_kib=%ld rss_end_kib=%ld rss_per_conn_kib=%.2f goroutines_base=0 goroutines_conn=0 goroutines_per_conn=0\n",
           base, conn, end, (base < 0 || conn < 0) ? -1.0 : (double)(conn - base) / conns);
}

static void *new_ctx(int sockets) {
    void *ctx = zmq_ctx_new();
    const char *io = getenv("WL_IO_THREADS");
    if (!ctx) die("zmq_ctx_new");
    if (zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, sockets + 16) != 0) die("ZMQ_MAX_SOCKETS");
    if (io && *io && zmq_ctx_set(ctx, ZMQ_IO_THREADS, (int)num(io, "WL_IO_THREADS", 1, 64)) != 0) die("ZMQ_IO_THREADS");
    return ctx;
}

static void *new_sock(void *ctx, int type, int sndhwm, int rcvhwm) {
    void *s = zmq_socket(ctx, type);
    int zero = 0;
    if (!s) die("zmq_socket");
    if (zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero) != 0) die("ZMQ_LINGER");
    if (sndhwm >= 0 && zmq_setsockopt(s, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm) != 0) die("ZMQ_SNDHWM");
    if (rcvhwm >= 0 && zmq_setsockopt(s, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm) != 0) die("ZMQ_RCVHWM");
    return s;
}

static void bind_any(void *s, const char *name) {
    char ep[256];
    size_t len = sizeof ep;
    if (zmq_bind(s, "tcp://127.0.0.1:*") != 0) die("zmq_bind");
    if (zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, ep, &len) != 0) die("ZMQ_LAST_ENDPOINT");
    fprintf(stderr, "%s=%s\n", name, ep);
}

/* ---- fan-out ---- */

static int pub_main(int argc, char **argv) {
    if (argc != 6) fail("usage: pub CONNS TOPICS SIZE SECS HWM TIMEOUT_S");
    int conns = (int)num(argv[0], "CONNS", 1, MAX_CONN);
    int distinct = topics_arg(argv[1]);
    int size = (int)num(argv[2], "SIZE", HDR_LEN, 1 << 20);
    int secs = (int)num(argv[3], "SECS", 1, 3600);
    int hwm = (int)num(argv[4], "HWM", 0, 1 << 30);
    int64_t timeout = num(argv[5], "TIMEOUT_S", 1, 3600) * 1000000000LL;
    int64_t t_end = mono_ns() + timeout;
    void *ctx = new_ctx(4);
    void *pub = new_sock(ctx, ZMQ_PUB, hwm, -1);
    void *ctrl = new_sock(ctx, ZMQ_PULL, -1, -1);
    bind_any(pub, "endpoint");
    bind_any(ctrl, "control");
    long base = rss_kib();
    int ntopics = distinct ? conns : 1;
    uint64_t *seqs = calloc((size_t)ntopics, sizeof *seqs);
    unsigned char *buf = calloc((size_t)size, 1);
    if (!seqs || !buf) fail("out of memory");

    /* Send kind to every topic until the subscriber process says word on the
     * control socket, as azmq's side does. */
    const char *words[2] = {"ready", "done"};
    const char kinds[2] = {'W', 'E'};
    long conn = 0;
    uint64_t sent = 0;
    double elapsed = 0;
    for (int phase = 0; phase < 2; phase++) {
        for (;;) {
            for (int i = 0; i < ntopics; i++) {
                put_hdr(buf, i, kinds[phase], seqs[i], wall_ns());
                if (zmq_send(pub, buf, (size_t)size, 0) < 0) die("zmq_send");
            }
            zmq_pollitem_t it = {ctrl, 0, ZMQ_POLLIN, 0};
            if (zmq_poll(&it, 1, 20) < 0) die("zmq_poll");
            if (it.revents & ZMQ_POLLIN) {
                char w[16];
                int n = zmq_recv(ctrl, w, sizeof w, 0);
                if (n < 0) die("zmq_recv control");
                if (n != (int)strlen(words[phase]) || memcmp(w, words[phase], (size_t)n) != 0) fail("control: an unexpected word");
                break;
            }
            if (mono_ns() > t_end) fail("timed out waiting for the subscribers");
        }
        if (phase == 1) break;
        conn = rss_kib();
        int64_t start = mono_ns(), deadline = start + secs * 1000000000LL;
        for (uint64_t i = 0;; i++) {
            int ti = (int)(i % (uint64_t)ntopics);
            put_hdr(buf, ti, 'D', seqs[ti], wall_ns());
            if (zmq_send(pub, buf, (size_t)size, 0) < 0) die("zmq_send");
            seqs[ti]++;
            sent++;
            if ((i & 63) == 0 && mono_ns() > deadline) break;
        }
        elapsed = (mono_ns() - start) / 1e9;
    }
    printf("impl=libzmq sent=%llu send_secs=%.3f sent_per_s=%.0f ", (unsigned long long)sent, elapsed, sent / elapsed);
    print_mem(base, conn, rss_kib(), conns);
    zmq_close(pub);
    zmq_close(ctrl);
    zmq_ctx_term(ctx);
    return 0;
}

typedef struct {
    uint64_t recv, sent;
    int64_t first, last, lag_max, lag_last;
    int warm, ended;
} sub_stats;

static int sub_main(int argc, char **argv) {
    if (argc != 6) fail("usage: sub ENDPOINT CONTROL CONNS TOPICS HWM TIMEOUT_S");
    const char *ep = argv[0], *ctl = argv[1];
    int conns = (int)num(argv[2], "CONNS", 1, MAX_CONN);
    int distinct = topics_arg(argv[3]);
    int hwm = (int)num(argv[4], "HWM", 0, 1 << 30);
    int64_t t_end = mono_ns() + num(argv[5], "TIMEOUT_S", 1, 3600) * 1000000000LL;
    void *ctx = new_ctx(conns + 1);
    void *ctrl = new_sock(ctx, ZMQ_PUSH, -1, -1);
    int linger = 1000;
    if (zmq_setsockopt(ctrl, ZMQ_LINGER, &linger, sizeof linger) != 0) die("ZMQ_LINGER");
    if (zmq_connect(ctrl, ctl) != 0) die("zmq_connect control");
    zmq_pollitem_t *items = calloc((size_t)conns, sizeof *items);
    sub_stats *st = calloc((size_t)conns, sizeof *st);
    if (!items || !st) fail("out of memory");
    for (int i = 0; i < conns; i++) {
        void *s = new_sock(ctx, ZMQ_SUB, -1, hwm);
        char t[16];
        snprintf(t, sizeof t, "t%04d", distinct ? i : 0);
        if (zmq_setsockopt(s, ZMQ_SUBSCRIBE, t, 5) != 0) die("ZMQ_SUBSCRIBE");
        if (zmq_connect(s, ep) != 0) die("zmq_connect");
        items[i].socket = s;
        items[i].events = ZMQ_POLLIN;
    }
    int warm = 0, ended = 0;
    zmq_msg_t m;
    zmq_msg_init(&m);
    while (ended < conns) {
        if (mono_ns() > t_end) {
            fprintf(stderr, "workloads sub: timed out (%d of %d warm, %d ended)\n", warm, conns, ended);
            exit(1);
        }
        if (zmq_poll(items, conns, 100) < 0) die("zmq_poll");
        for (int i = 0; i < conns; i++) {
            if (!(items[i].revents & ZMQ_POLLIN) || st[i].ended) continue;
            /* A bounded batch per socket, so that one busy subscriber does
             * not starve the others. */
            for (int k = 0; k < 256 && !st[i].ended; k++) {
                if (zmq_msg_recv(&m, items[i].socket, ZMQ_DONTWAIT) < 0) {
                    if (zmq_errno() == EAGAIN) break;
                    die("zmq_msg_recv");
                }
                int64_t now = wall_ns();
                const unsigned char *b = zmq_msg_data(&m);
                if (zmq_msg_size(&m) < HDR_LEN || zmq_msg_more(&m)) fail("a malformed message");
                switch (b[5]) {
                case 'W':
                    if (!st[i].warm) {
                        st[i].warm = 1;
                        if (++warm == conns && zmq_send(ctrl, "ready", 5, 0) < 0) die("zmq_send ready");
                    }
                    break;
                case 'D': {
                    int64_t lag = now - (int64_t)get64(b + 14);
                    if (st[i].recv == 0) st[i].first = now;
                    st[i].recv++;
                    st[i].last = now;
                    st[i].lag_last = lag;
                    if (lag > st[i].lag_max) st[i].lag_max = lag;
                    break;
                }
                case 'E':
                    st[i].sent = get64(b + 6);
                    st[i].ended = 1;
                    ended++;
                    break;
                }
            }
        }
    }
    zmq_msg_close(&m);
    if (zmq_send(ctrl, "done", 4, 0) < 0) die("zmq_send done");
    /* The same sums as azmq's side (fanoutLine). */
    uint64_t total = 0, sent = 0, min_recv = UINT64_MAX;
    int64_t first = -1, last = 0, lag_max = 0, lag_end = 0;
    for (int i = 0; i < conns; i++) {
        total += st[i].recv;
        sent += st[i].sent;
        if (st[i].recv < min_recv) min_recv = st[i].recv;
        if (st[i].recv > 0) {
            if (first < 0 || st[i].first < first) first = st[i].first;
            if (st[i].last > last) last = st[i].last;
        }
        if (st[i].lag_max > lag_max) lag_max = st[i].lag_max;
        if (st[i].lag_last > lag_end) lag_end = st[i].lag_last;
    }
    double secs = (last - first) / 1e9;
    printf("impl=libzmq delivered=%llu recv_secs=%.3f delivered_per_s=%.0f drops=%lld min_delivered=%llu lag_end_ms=%.2f lag_max_ms=%.2f\n",
           (unsigned long long)total, secs, secs > 0 ? total / secs : 0.0, (long long)(sent - total),
           (unsigned long long)min_recv, lag_end / 1e6, lag_max / 1e6);
    for (int i = 0; i < conns; i++) zmq_close(items[i].socket);
    zmq_close(ctrl);
    zmq_ctx_term(ctx);
    return 0;
}

/* ---- broker ---- */

static int router_main(int argc, char **argv) {
    if (argc != 3) fail("usage: router CONNS HWM TIMEOUT_S");
    int conns = (int)num(argv[0], "CONNS", 1, MAX_CONN);
    int hwm = (int)num(argv[1], "HWM", 0, 1 << 30);
    int timeout_ms = (int)num(argv[2], "TIMEOUT_S", 1, 3600) * 1000;
    void *ctx = new_ctx(4);
    void *r = new_sock(ctx, ZMQ_ROUTER, hwm, hwm);
    if (zmq_setsockopt(r, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms) != 0) die("ZMQ_RCVTIMEO");
    bind_any(r, "endpoint");
    long base = rss_kib(), conn = 0;
    int hellos = 0;
    uint64_t replies = 0;
    zmq_msg_t id, body;
    zmq_msg_init(&id);
    zmq_msg_init(&body);
    for (;;) {
        if (zmq_msg_recv(&id, r, 0) < 0) die("zmq_msg_recv (timed out?)");
        if (!zmq_msg_more(&id)) fail("a request without a body");
        if (zmq_msg_recv(&body, r, 0) < 0) die("zmq_msg_recv");
        if (zmq_msg_more(&body) || zmq_msg_size(&body) < 1) fail("a malformed request");
        char kind = *(const char *)zmq_msg_data(&body);
        if (kind == 'Q') break;
        if (kind == 'H' && ++hellos == conns) conn = rss_kib();
        /* The received messages go back as they are, without a copy. */
        if (zmq_msg_send(&id, r, ZMQ_SNDMORE) < 0) die("zmq_msg_send");
        if (zmq_msg_send(&body, r, 0) < 0) die("zmq_msg_send");
        replies++;
    }
    printf("impl=libzmq replies=%llu ", (unsigned long long)replies);
    print_mem(base, conn, rss_kib(), conns);
    zmq_msg_close(&id);
    zmq_msg_close(&body);
    zmq_close(r);
    zmq_ctx_term(ctx);
    return 0;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int dealer_main(int argc, char **argv) {
    if (argc != 5) fail("usage: dealer ENDPOINT CONNS SIZE SECS TIMEOUT_S");
    const char *ep = argv[0];
    int conns = (int)num(argv[1], "CONNS", 1, MAX_CONN);
    int size = (int)num(argv[2], "SIZE", 1, 1 << 20);
    int secs = (int)num(argv[3], "SECS", 1, 3600);
    int64_t t_end = mono_ns() + num(argv[4], "TIMEOUT_S", 1, 3600) * 1000000000LL;
    void *ctx = new_ctx(conns);
    zmq_pollitem_t *items = calloc((size_t)conns, sizeof *items);
    int64_t *sent_at = calloc((size_t)conns, sizeof *sent_at);
    char *busy = calloc((size_t)conns, 1);
    unsigned char *req = calloc((size_t)size, 1), *rep = malloc((size_t)size);
    size_t cap = 1 << 22, n = 0; /* round trips kept; more are counted, not kept */
    uint32_t *rtts = malloc(cap * sizeof *rtts);
    if (!items || !sent_at || !busy || !req || !rep || !rtts) fail("out of memory");
    for (int i = 0; i < conns; i++) {
        void *s = new_sock(ctx, ZMQ_DEALER, -1, -1);
        int linger = 1000;
        if (zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger) != 0) die("ZMQ_LINGER");
        if (zmq_connect(s, ep) != 0) die("zmq_connect");
        items[i].socket = s;
        items[i].events = ZMQ_POLLIN;
    }
    /* Phase 0: every client says hello and waits for the echo; phase 1: the
     * timed round trips, one outstanding per client. */
    uint64_t replies = 0;
    int64_t start = 0, deadline = 0;
    for (int phase = 0; phase < 2; phase++) {
        req[0] = phase == 0 ? 'H' : 'R';
        if (phase == 1) {
            start = mono_ns();
            deadline = start + secs * 1000000000LL;
        }
        for (int i = 0; i < conns; i++) {
            sent_at[i] = mono_ns();
            if (zmq_send(items[i].socket, req, (size_t)size, 0) < 0) die("zmq_send");
            busy[i] = 1;
        }
        int outstanding = conns;
        while (outstanding > 0) {
            if (mono_ns() > t_end) fail("timed out");
            if (zmq_poll(items, conns, 100) < 0) die("zmq_poll");
            for (int i = 0; i < conns; i++) {
                if (!(items[i].revents & ZMQ_POLLIN)) continue;
                int got = zmq_recv(items[i].socket, rep, (size_t)size, ZMQ_DONTWAIT);
                if (got < 0) {
                    if (zmq_errno() == EAGAIN) continue;
                    die("zmq_recv");
                }
                if (got != size || rep[0] != req[0] || !busy[i]) fail("a bad reply");
                int64_t now = mono_ns();
                busy[i] = 0;
                outstanding--;
                if (phase == 0) continue;
                int64_t rtt = now - sent_at[i];
                if (n < cap) rtts[n++] = rtt > UINT32_MAX ? UINT32_MAX : (uint32_t)rtt;
                replies++;
                if (now < deadline) {
                    sent_at[i] = now;
                    if (zmq_send(items[i].socket, req, (size_t)size, 0) < 0) die("zmq_send");
                    busy[i] = 1;
                    outstanding++;
                }
            }
        }
    }
    double elapsed = (mono_ns() - start) / 1e9;
    if (zmq_send(items[0].socket, "Q", 1, 0) < 0) die("zmq_send quit");
    qsort(rtts, n, sizeof *rtts, cmp_u32);
    double p50 = n ? rtts[(size_t)(0.5 * n + 0.999999) - 1] / 1e3 : 0;
    double p99 = n ? rtts[(size_t)(0.99 * n + 0.999999) - 1] / 1e3 : 0;
    printf("impl=libzmq replies=%llu secs=%.3f replies_per_s=%.0f p50_us=%.1f p99_us=%.1f\n",
           (unsigned long long)replies, elapsed, replies / elapsed, p50, p99);
    for (int i = 0; i < conns; i++) zmq_close(items[i].socket);
    zmq_ctx_term(ctx);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) fail("usage: workloads pub|sub|router|dealer ARGS...");
    mode = argv[1];
    if (strcmp(mode, "pub") == 0) return pub_main(argc - 2, argv + 2);
    if (strcmp(mode, "sub") == 0) return sub_main(argc - 2, argv + 2);
    if (strcmp(mode, "router") == 0) return router_main(argc - 2, argv + 2);
    if (strcmp(mode, "dealer") == 0) return dealer_main(argc - 2, argv + 2);
    fail("usage: workloads pub|sub|router|dealer ARGS...");
    return 2;
}
