/* perf: libzmq measured with the command line of its own perf tools, as
 * `azmq bench MODE` and the Go peers beside this directory take it:
 *
 *   perf local_thr|remote_thr|local_lat|remote_lat ENDPOINT SIZE COUNT
 *   perf inproc_thr|inproc_lat SIZE COUNT
 *
 * local_thr binds PULL and receives COUNT messages of SIZE bytes;
 * remote_thr connects PUSH and sends them, then waits (linger -1) until
 * all are written. local_lat binds REP and echoes COUNT messages;
 * remote_lat connects REQ and makes COUNT round trips. The inproc modes run
 * both sides in one process, the untimed one in a second thread.
 *
 * local_thr and inproc_thr print `msgs_per_s=N mb_per_s=N`, timed from the
 * first message received to the last; local_thr adds `cpu_ns_per_msg=N`,
 * and remote_thr prints `cpu_ns_per_msg=N` once every message is written:
 * the process's user+system CPU time (getrusage RUSAGE_SELF, libzmq's I/O
 * thread included) from before zmq_ctx_new to the end of its side (the
 * last message received; zmq_ctx_term returned), over COUNT, as azmq bench
 * measures it. remote_lat and inproc_lat print
 * `rtt_us=N latency_us=N` over all COUNT round trips. Given a wildcard
 * endpoint (tcp://127.0.0.1:*), a binding side prints the endpoint it bound
 * as `endpoint=...` on stderr. Exit status: 0 done, 1 failed, 2 bad usage.
 *
 * Each message is used as libzmq's API intends: the sender makes a new
 * zmq_msg_t of SIZE bytes per send (zmq_msg_send takes it over) and fills
 * it; the receiver receives into one zmq_msg_t, which gives the previous
 * message back each time.
 *
 * Build (libzmq's development files, e.g. Debian's libzmq3-dev):
 *   cc -O2 -o perf perf.c $(pkg-config --cflags --libs libzmq) -lpthread
 * `make bench-compare` builds it as build/peers/libzmq. */
#include <zmq.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define NAME "libzmq"

static void *ctx;

/* fail reports a libzmq call that failed and ends the process. */
static void fail(const char *what) {
    fprintf(stderr, NAME ": %s: %s\n", what, zmq_strerror(zmq_errno()));
    exit(1);
}

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* cpu_ns is the process's user+system CPU time in ns, every thread. */
static double cpu_ns(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru)) return -1;
    return ((double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec) * 1e9 +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) * 1e3;
}

/* checked fails when a received message does not have the expected size. */
static void checked(zmq_msg_t *m, size_t size, const char *what, long i) {
    if (zmq_msg_size(m) != size) {
        fprintf(stderr, NAME ": %s %ld has %zu bytes, want %zu\n", what, i, zmq_msg_size(m), size);
        exit(1);
    }
}

static void *socket_of(int type, int linger_forever) {
    void *s = zmq_socket(ctx, type);
    if (!s) fail("zmq_socket");
    if (linger_forever) {
        int linger = -1;
        if (zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger)) fail("ZMQ_LINGER");
    }
    return s;
}

/* bound opens a socket bound to ep; with report set, it prints the endpoint
 * when ep was a wildcard. */
static void *bound(int type, int linger_forever, const char *ep, int report) {
    void *s = socket_of(type, linger_forever);
    if (zmq_bind(s, ep)) fail("zmq_bind");
    if (report && strchr(ep, '*')) {
        char last[256];
        size_t len = sizeof last;
        if (zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, last, &len)) fail("ZMQ_LAST_ENDPOINT");
        fprintf(stderr, "endpoint=%s\n", last);
        fflush(stderr);
    }
    return s;
}

static void *connected(int type, int linger_forever, const char *ep) {
    void *s = socket_of(type, linger_forever);
    if (zmq_connect(s, ep)) fail("zmq_connect");
    return s;
}

/* receive takes count messages and returns the seconds from the first to
 * the last. */
static double receive(void *s, size_t size, long count) {
    zmq_msg_t m;
    double start = 0;
    zmq_msg_init(&m);
    for (long i = 0; i < count; i++) {
        if (zmq_msg_recv(&m, s, 0) < 0) fail("zmq_msg_recv");
        checked(&m, size, "message", i);
        if (i == 0) start = seconds();
    }
    zmq_msg_close(&m);
    return seconds() - start;
}

static void send_all(void *s, size_t size, long count) {
    for (long i = 0; i < count; i++) {
        zmq_msg_t m;
        if (zmq_msg_init_size(&m, size)) fail("zmq_msg_init_size");
        memset(zmq_msg_data(&m), 'x', size);
        if (zmq_msg_send(&m, s, 0) < 0) fail("zmq_msg_send");
    }
}

static void echo(void *s, size_t size, long count) {
    zmq_msg_t m;
    zmq_msg_init(&m);
    for (long i = 0; i < count; i++) {
        if (zmq_msg_recv(&m, s, 0) < 0) fail("zmq_msg_recv");
        checked(&m, size, "request", i);
        if (zmq_msg_send(&m, s, 0) < 0) fail("zmq_msg_send");
    }
    zmq_msg_close(&m);
}

/* round_trips makes count round trips and returns the seconds they took. */
static double round_trips(void *s, size_t size, long count) {
    double start = seconds();
    for (long i = 0; i < count; i++) {
        zmq_msg_t m;
        if (zmq_msg_init_size(&m, size)) fail("zmq_msg_init_size");
        memset(zmq_msg_data(&m), 'x', size);
        if (zmq_msg_send(&m, s, 0) < 0) fail("zmq_msg_send");
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, s, 0) < 0) fail("zmq_msg_recv");
        checked(&m, size, "reply", i);
        zmq_msg_close(&m);
    }
    return seconds() - start;
}

/* print_thr prints the throughput line; cpu0 >= 0 (what cpu_ns said at
 * the start) adds the CPU time per message. */
static void print_thr(size_t size, long count, double elapsed, double cpu0) {
    double rate = count > 1 && elapsed > 0 ? (double)(count - 1) / elapsed : 0;
    double cpu1 = cpu_ns();
    printf("msgs_per_s=%.0f mb_per_s=%.1f", rate, rate * (double)size / 1e6);
    if (cpu0 >= 0 && cpu1 >= 0) printf(" cpu_ns_per_msg=%.0f", (cpu1 - cpu0) / (double)count);
    printf("\n");
    fflush(stdout);
}

static void print_lat(long count, double elapsed) {
    double rtt = elapsed * 1e6 / (double)count;
    printf("rtt_us=%.2f latency_us=%.2f\n", rtt, rtt / 2);
    fflush(stdout);
}

/* The untimed side of an inproc mode, in its own thread. */
struct side {
    void *socket;
    size_t size;
    long count;
    int sends; /* 1: send count messages (thr); 0: echo count requests (lat) */
};

static void *run_side(void *arg) {
    struct side *side = arg;
    if (side->sends) send_all(side->socket, side->size, side->count);
    else echo(side->socket, side->size, side->count);
    zmq_close(side->socket);
    return NULL;
}

static int usage(const char *why) {
    fprintf(stderr, NAME ": %s\n"
            "usage: " NAME " local_thr|remote_thr|local_lat|remote_lat ENDPOINT SIZE COUNT\n"
            "       " NAME " inproc_thr|inproc_lat SIZE COUNT\n", why);
    return 2;
}

/* number parses a non-negative decimal; -1 when arg is not one. */
static long number(const char *arg) {
    char *end;
    long v = strtol(arg, &end, 10);
    return (*arg && !*end && v >= 0) ? v : -1;
}

int main(int argc, char **argv) {
    if (argc < 2) return usage("no mode");
    const char *mode = argv[1];
    int inproc = !strcmp(mode, "inproc_thr") || !strcmp(mode, "inproc_lat");
    int remote = !strcmp(mode, "local_thr") || !strcmp(mode, "remote_thr") ||
                 !strcmp(mode, "local_lat") || !strcmp(mode, "remote_lat");
    if (!inproc && !remote) return usage("unknown mode");
    if (argc != (inproc ? 4 : 5)) return usage(inproc ? "want SIZE COUNT" : "want ENDPOINT SIZE COUNT");
    const char *ep = inproc ? "inproc://perf" : argv[2];
    long size = number(argv[argc - 2]), count = number(argv[argc - 1]);
    if (size < 0) return usage("SIZE is not a byte count");
    if (count < 1) return usage("COUNT is not a positive number");

    double cpu0 = cpu_ns();
    ctx = zmq_ctx_new();
    if (!ctx) fail("zmq_ctx_new");
    if (!strcmp(mode, "local_thr")) {
        void *pull = bound(ZMQ_PULL, 0, ep, 1);
        double elapsed = receive(pull, size, count);
        print_thr(size, count, elapsed, cpu0);
        zmq_close(pull);
    } else if (!strcmp(mode, "remote_thr")) {
        void *push = connected(ZMQ_PUSH, 1, ep);
        send_all(push, size, count);
        zmq_close(push); /* zmq_ctx_term waits until all is written */
    } else if (!strcmp(mode, "local_lat")) {
        void *rep = bound(ZMQ_REP, 1, ep, 1);
        echo(rep, size, count);
        zmq_close(rep);
    } else if (!strcmp(mode, "remote_lat")) {
        void *req = connected(ZMQ_REQ, 0, ep);
        print_lat(count, round_trips(req, size, count));
        zmq_close(req);
    } else {
        /* Bind before connecting: the bound side exists first, whatever
         * libzmq's version. */
        int thr = !strcmp(mode, "inproc_thr");
        void *b = bound(thr ? ZMQ_PULL : ZMQ_REP, !thr, ep, 0);
        void *c = connected(thr ? ZMQ_PUSH : ZMQ_REQ, thr, ep);
        struct side side = {thr ? c : b, (size_t)size, count, thr};
        pthread_t t;
        if (pthread_create(&t, NULL, run_side, &side)) {
            fprintf(stderr, NAME ": pthread_create failed\n");
            return 1;
        }
        if (thr) print_thr(size, count, receive(b, size, count), -1);
        else print_lat(count, round_trips(c, size, count));
        pthread_join(t, NULL);
        zmq_close(thr ? b : c);
    }
    if (zmq_ctx_term(ctx)) fail("zmq_ctx_term");
    if (!strcmp(mode, "remote_thr")) {
        /* Only now is every message written: zmq_ctx_term waited. */
        double cpu1 = cpu_ns();
        if (cpu0 >= 0 && cpu1 >= 0) printf("cpu_ns_per_msg=%.0f\n", (cpu1 - cpu0) / (double)count);
    }
    return 0;
}
