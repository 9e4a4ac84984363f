#!/usr/bin/python3
"""A small libzmq peer for azmq's interop tests, driven by a JSON spec.

Run it with Debian's interpreter (python3-zmq), by its full path:

    /usr/bin/python3 peer.py '<spec>'     # the spec as argv[1]
    /usr/bin/python3 peer.py @spec.json   # the spec from a file
    /usr/bin/python3 peer.py < spec       # the spec as the first line of stdin

The spec:

    {
      "type": "ROUTER",                      # PAIR PUB SUB REQ REP DEALER ROUTER PULL PUSH XPUB XSUB STREAM
      "bind": ["tcp://127.0.0.1:*"],         # and/or
      "connect": ["ipc:///tmp/x/s"],
      "options": {
        "routing_id": "6964",                # hex; ZMQ_ROUTING_ID
        "subscribe": ["41"],                 # hex topics (SUB: ZMQ_SUBSCRIBE; XSUB: a 01+topic message)
        "linger": 1000,                      # ms (default 1000)
        "rcvtimeo": 10000,                   # ms, the default timeout of every recv (default 10000)
        "sndtimeo": 10000,                   # ms, the default timeout of every send (default 10000)
        "router_mandatory": true,
        "immediate": true,
        "sndhwm": 1000, "rcvhwm": 1000,
        "heartbeat_ivl": 100,                # ms; ZMQ_HEARTBEAT_IVL (PING every ivl)
        "heartbeat_timeout": 300,            # ms; ZMQ_HEARTBEAT_TIMEOUT (default: ivl)
        "heartbeat_ttl": 500,                # ms; ZMQ_HEARTBEAT_TTL (sent in PINGs, in deciseconds)
        "sockopts": {"PROBE_ROUTER": 1},     # any other integer or bytes (hex) option, by zmq name
        # security (Z85 keys as 40-character text):
        "plain_server": true,                # ZMQ_PLAIN_SERVER
        "plain_username": "admin", "plain_password": "secret",   # a PLAIN client
        "curve_server": true, "curve_secretkey": "...",          # a CURVE server
        "curve_serverkey": "...", "curve_publickey": "...",      # a CURVE client (with curve_secretkey)
        "zap_domain": "global",              # ZMQ_ZAP_DOMAIN
        "monitor": true,                     # record socket events, for the "events" step
        "auth": {                            # start zmq.auth.thread.ThreadAuthenticator first (also
          "domain": "*",                     # accepted as a top-level "auth" key of the spec)
          "users": {"admin": "secret"},      # configure_plain(domain, passwords)
          "curve_keys": ["<Z85 public>"],    # configure_curve_callback: only these client keys
          "curve_any": true,                 # configure_curve(domain, CURVE_ALLOW_ANY)
          "allow": ["127.0.0.1"], "deny": ["127.0.0.1"]}
      },
      "steps": [ ... ]
    }

Steps (frames are hex strings, or {"fill": BYTE, "len": N}, or
{"seq": N} = bytes i % 251 for i in 0..N-1, or {"last": I} = frame I of
the last message received, e.g. the routing id a ROUTER or STREAM saw):

    {"op": "send", "frames": [...], "count": 1,     # send the message count times
     "retry_ms": 0,                                 # retry EHOSTUNREACH/EAGAIN for this long
     "eagain_ok": false}                            # a send timeout is not an error (prints {"eagain": true})
    {"op": "recv", "count": 1, "timeout_ms": T,     # prints {"msg": [hex frames]} per message; with
     "props": ["User-Id"]}                          # props also "props": {name: value or null}
    {"op": "recv_raw", "len": N, "timeout_ms": T}   # STREAM: recv [id, data] from one connection until N data
                                                    # bytes came, however TCP cut them; prints {"msg": [id, data]}
    {"op": "echo", "count": 1, "timeout_ms": T,     # recv, print (unless quiet) and send the same frames back
     "quiet": false, "props": [...]}
    {"op": "sleep", "ms": 100}
    {"op": "subscribe", "topic": "41"} / {"op": "unsubscribe", "topic": "41"}
    {"op": "bind"|"connect"|"unbind"|"disconnect", "endpoint": "..."}  # bind prints {"bound": last_endpoint}
    {"op": "drain", "ms": 300}                      # recv and discard for ms; prints {"drained": n}
    {"op": "expect_none", "ms": 500}                # fail if any message arrives within ms
    {"op": "send_loop", "messages": [[...], ...],   # send the messages in turn every interval_ms until a
     "interval_ms": 5, "max_ms": 20000,             # line arrives on stdin (it is consumed); failing after
     "recv_too": false}                             # max_ms; recv_too also prints what arrives meanwhile
    {"op": "events", "ms": 1500,                    # (option monitor) print the socket events seen so far and
     "until": ["HANDSHAKE_"]}                       # for up to ms more, stopping early at one whose name starts
                                                    # with an "until" entry: {"events": [{"event":
                                                    # "HANDSHAKE_FAILED_AUTH", "value": 400, "endpoint": ...}]}
    {"op": "interactive"}                           # read more steps, one JSON object a line, from stdin
                                                    # until EOF or {"op": "exit"}; prints {"ack": op} after each

Output on stdout, one JSON object a line: {"ready": last_endpoint} once every
bind and connect of the spec is done (the last bound endpoint, else the last
connected one), then what the steps print, then {"done": true}. Any failure or
timeout: a message on stderr and exit status 1 (2 for a bad spec).
"""

import json
import os
import select
import sys
import time

try:
    import zmq
except ImportError as e:  # the Go side checks this before it relies on the peer
    sys.stderr.write("peer.py: cannot import zmq (install python3-zmq): %s\n" % e)
    sys.exit(3)


class Fail(Exception):
    pass


class SpecError(Exception):
    pass


def out(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


class Stdin:
    """Line reader over fd 0 with timeouts (select + os.read, no hidden buffering)."""

    def __init__(self):
        self.buf = b""
        self.eof = False

    def readline(self, timeout=None):
        """A line without its newline; None on timeout; b"" only at EOF with nothing left."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 1:]
                return line
            if self.eof:
                line, self.buf = self.buf, b""
                return line
            wait = None
            if deadline is not None:
                wait = max(0.0, deadline - time.monotonic())
            r, _, _ = select.select([0], [], [], wait)
            if not r:
                return None
            chunk = os.read(0, 1 << 20)
            if not chunk:
                self.eof = True
            self.buf += chunk


STDIN = Stdin()


# LAST is the last message received, for {"last": I} frames.
LAST = []


def frame(spec):
    if isinstance(spec, str):
        try:
            return bytes.fromhex(spec)
        except ValueError:
            raise SpecError("bad hex frame %r" % spec[:40])
    if isinstance(spec, dict):
        if "fill" in spec:
            return bytes([int(spec["fill"]) & 0xFF]) * int(spec["len"])
        if "seq" in spec:
            return bytes(i % 251 for i in range(int(spec["seq"])))
        if "last" in spec:
            i = int(spec["last"])
            if not -len(LAST) <= i < len(LAST):
                raise Fail("frame %d of the last message: it has %d" % (i, len(LAST)))
            return LAST[i]
    raise SpecError("bad frame spec %r" % (spec,))


def frames(specs):
    if not isinstance(specs, list):
        raise SpecError("frames must be a list")
    return [frame(f) for f in specs]


def hexes(msg):
    return [(f.bytes if isinstance(f, zmq.Frame) else bytes(f)).hex() for f in msg]


EVENT_NAMES = {getattr(zmq, n): n[len("EVENT_"):] for n in dir(zmq)
               if n.startswith("EVENT_") and not n.startswith("EVENT_ALL")}


class KeyList:
    """A credentials provider for configure_curve_callback: a fixed set of Z85 keys."""

    def __init__(self, keys):
        self.keys = set(k.encode() if isinstance(k, str) else bytes(k) for k in keys)

    def callback(self, domain, key):
        if isinstance(key, str):
            key = key.encode()
        return bytes(key) in self.keys


TYPES = {name: getattr(zmq, name) for name in
         ("PAIR", "PUB", "SUB", "REQ", "REP", "DEALER", "ROUTER", "PULL", "PUSH", "XPUB", "XSUB", "STREAM")}


class Peer:
    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise SpecError("the spec must be a JSON object")
        tname = str(spec.get("type", "")).upper()
        if tname not in TYPES:
            raise SpecError("unknown socket type %r" % spec.get("type"))
        self.tname = tname
        opts = spec.get("options", {}) or {}
        self.rcvtimeo = int(opts.get("rcvtimeo", 10000))
        self.sndtimeo = int(opts.get("sndtimeo", 10000))
        self.ctx = zmq.Context()
        self.auth = None
        self.mon = None
        auth = spec.get("auth", opts.get("auth"))
        if auth is not None:
            self.start_auth(auth)
        s = self.sock = self.ctx.socket(TYPES[tname])
        s.setsockopt(zmq.LINGER, int(opts.get("linger", 1000)))
        s.setsockopt(zmq.RCVTIMEO, self.rcvtimeo)
        s.setsockopt(zmq.SNDTIMEO, self.sndtimeo)
        if "routing_id" in opts:
            s.setsockopt(zmq.ROUTING_ID, frame(opts["routing_id"]))
        if "router_mandatory" in opts:
            s.setsockopt(zmq.ROUTER_MANDATORY, 1 if opts["router_mandatory"] else 0)
        if "immediate" in opts:
            s.setsockopt(zmq.IMMEDIATE, 1 if opts["immediate"] else 0)
        if "sndhwm" in opts:
            s.setsockopt(zmq.SNDHWM, int(opts["sndhwm"]))
        if "rcvhwm" in opts:
            s.setsockopt(zmq.RCVHWM, int(opts["rcvhwm"]))
        for name, const in (("heartbeat_ivl", zmq.HEARTBEAT_IVL), ("heartbeat_timeout", zmq.HEARTBEAT_TIMEOUT),
                            ("heartbeat_ttl", zmq.HEARTBEAT_TTL)):
            if name in opts:
                s.setsockopt(const, int(opts[name]))
        for name, value in (opts.get("sockopts") or {}).items():
            const = getattr(zmq, str(name).upper(), None)
            if not isinstance(const, int):
                raise SpecError("unknown socket option %r" % name)
            s.setsockopt(const, frame(value) if isinstance(value, str) else int(value))
        self.security(opts)
        if opts.get("monitor"):
            self.mon = s.get_monitor_socket()
        self.endpoint = ""
        for ep in spec.get("bind", []) or []:
            self.bind(ep)
        for ep in spec.get("connect", []) or []:
            s.connect(ep)
            if not self.endpoint:
                self.endpoint = ep
        for t in opts.get("subscribe", []) or []:
            self.subscribe(frame(t))

    def start_auth(self, auth):
        if not isinstance(auth, dict):
            raise SpecError("auth must be an object")
        import zmq.auth
        import zmq.auth.thread
        a = self.auth = zmq.auth.thread.ThreadAuthenticator(self.ctx)
        a.start()
        domain = str(auth.get("domain", "*"))
        if auth.get("allow"):
            a.allow(*[str(x) for x in auth["allow"]])
        if auth.get("deny"):
            a.deny(*[str(x) for x in auth["deny"]])
        if "users" in auth:
            a.configure_plain(domain=domain, passwords={str(k): str(v) for k, v in (auth["users"] or {}).items()})
        if auth.get("curve_any"):
            a.configure_curve(domain=domain, location=zmq.auth.CURVE_ALLOW_ANY)
        elif "curve_keys" in auth:
            a.configure_curve_callback(domain=domain, credentials_provider=KeyList(auth["curve_keys"] or []))
        # --- certificates (cert_test.go) ---
        # "curve_location": DIR: configure_curve(domain, location=DIR), the
        # client keys of the public certificates (*.key) in DIR, read once.
        if auth.get("curve_location"):
            a.configure_curve(domain=domain, location=str(auth["curve_location"]))
        # --- end certificates ---

    def security(self, opts):
        s = self.sock

        def key(name):
            k = opts[name]
            if not isinstance(k, str) or len(k) != 40:
                raise SpecError("%s: want a 40-character Z85 key" % name)
            return k.encode()

        if opts.get("plain_server"):
            s.setsockopt(zmq.PLAIN_SERVER, 1)
        if "plain_username" in opts:
            s.setsockopt(zmq.PLAIN_USERNAME, str(opts["plain_username"]).encode())
        if "plain_password" in opts:
            s.setsockopt(zmq.PLAIN_PASSWORD, str(opts["plain_password"]).encode())
        if opts.get("curve_server"):
            s.setsockopt(zmq.CURVE_SERVER, 1)
        if "curve_publickey" in opts:
            s.setsockopt(zmq.CURVE_PUBLICKEY, key("curve_publickey"))
        if "curve_secretkey" in opts:
            s.setsockopt(zmq.CURVE_SECRETKEY, key("curve_secretkey"))
        if "curve_serverkey" in opts:
            s.setsockopt(zmq.CURVE_SERVERKEY, key("curve_serverkey"))
        if "zap_domain" in opts:
            s.setsockopt(zmq.ZAP_DOMAIN, str(opts["zap_domain"]).encode())

    def events(self, st):
        if self.mon is None:
            raise SpecError("events needs the monitor option")
        from zmq.utils.monitor import recv_monitor_message
        until = [str(u) for u in (st.get("until") or [])]
        end = time.monotonic() + int(st.get("ms", 0)) / 1000.0
        evs = []
        while True:
            left = max(0, int((end - time.monotonic()) * 1000))
            if self.mon.poll(left, zmq.POLLIN) == 0:
                break
            ev = recv_monitor_message(self.mon)
            name = EVENT_NAMES.get(ev["event"], str(ev["event"]))
            ep = ev.get("endpoint", b"")
            if isinstance(ep, bytes):
                ep = ep.decode("utf-8", "replace")
            value = ev.get("value")
            evs.append({"event": name, "value": None if value is None else int(value), "endpoint": ep})
            if any(name.startswith(u) for u in until):
                break
        out({"events": evs})

    def print_msg(self, msg, st):
        line = {"msg": hexes(msg)}
        props = st.get("props")
        if props:
            line["props"] = {str(p): self.prop(msg, str(p)) for p in props}
        out(line)

    @staticmethod
    def prop(msg, name):
        if not msg or not isinstance(msg[-1], zmq.Frame):
            return None
        try:
            v = msg[-1].get(name)
        except zmq.ZMQError:
            return None
        if isinstance(v, bytes):
            v = v.decode("utf-8", "replace")
        return v

    def bind(self, ep):
        self.sock.bind(ep)
        self.endpoint = self.sock.getsockopt(zmq.LAST_ENDPOINT).decode()
        return self.endpoint

    def subscribe(self, topic):
        if self.tname == "SUB":
            self.sock.setsockopt(zmq.SUBSCRIBE, topic)
        elif self.tname == "XSUB":
            self.send([b"\x01" + topic])
        else:
            raise SpecError("subscribe on a %s socket" % self.tname)

    def unsubscribe(self, topic):
        if self.tname == "SUB":
            self.sock.setsockopt(zmq.UNSUBSCRIBE, topic)
        elif self.tname == "XSUB":
            self.send([b"\x00" + topic])
        else:
            raise SpecError("unsubscribe on a %s socket" % self.tname)

    def send(self, msg, retry_ms=0, eagain_ok=False):
        deadline = time.monotonic() + retry_ms / 1000.0
        while True:
            try:
                self.sock.send_multipart(msg)
                return True
            except zmq.ZMQError as e:
                if e.errno in (zmq.EHOSTUNREACH, zmq.EAGAIN) and time.monotonic() < deadline:
                    time.sleep(0.01)
                    continue
                if e.errno == zmq.EAGAIN and eagain_ok:
                    out({"eagain": True})
                    return False
                raise Fail("send of %d frame(s) on %s: %s" % (len(msg), self.tname, e))

    def recv(self, timeout_ms=None, frames=False):
        """One message, or raise Fail after timeout_ms (default: rcvtimeo).
        With frames, a list of zmq.Frame (which carry the message properties)."""
        t = self.rcvtimeo if timeout_ms is None else int(timeout_ms)
        if self.sock.poll(t, zmq.POLLIN) == 0:
            raise Fail("recv on %s: no message within %d ms" % (self.tname, t))
        msg = self.sock.recv_multipart(copy=not frames)
        LAST[:] = [f.bytes if isinstance(f, zmq.Frame) else bytes(f) for f in msg]
        return msg

    def recv_raw(self, n, timeout_ms=None):
        """STREAM: [id, data] with n data bytes from one connection, joined
        from as many messages as the reads cut them into."""
        if self.tname != "STREAM":
            raise SpecError("recv_raw on a %s socket" % self.tname)
        rid, data = None, b""
        while len(data) < n:
            msg = self.recv(timeout_ms)
            if len(msg) != 2 or not msg[1]:
                raise Fail("recv_raw: after %d of %d bytes, got %r" % (len(data), n, hexes(msg)[:2]))
            if rid is not None and msg[0] != rid:
                raise Fail("recv_raw: data from %s amid that of %s" % (msg[0].hex(), rid.hex()))
            rid, data = msg[0], data + msg[1]
        LAST[:] = [rid, data]
        return [rid, data]

    def try_recv(self, timeout_ms):
        """One message, or None after timeout_ms."""
        if self.sock.poll(max(0, int(timeout_ms)), zmq.POLLIN) == 0:
            return None
        return self.sock.recv_multipart()

    def step(self, st):
        if not isinstance(st, dict) or "op" not in st:
            raise SpecError("bad step %r" % (st,))
        op = st["op"]
        if op == "send":
            msg = frames(st.get("frames", []))
            for _ in range(int(st.get("count", 1))):
                self.send(msg, int(st.get("retry_ms", 0)), bool(st.get("eagain_ok", False)))
        elif op == "recv":
            for _ in range(int(st.get("count", 1))):
                self.print_msg(self.recv(st.get("timeout_ms"), bool(st.get("props"))), st)
        elif op == "recv_raw":
            self.print_msg(self.recv_raw(int(st["len"]), st.get("timeout_ms")), {})
        elif op == "echo":
            for _ in range(int(st.get("count", 1))):
                msg = self.recv(st.get("timeout_ms"), bool(st.get("props")))
                if not st.get("quiet", False):
                    self.print_msg(msg, st)
                self.send(msg)
        elif op == "sleep":
            time.sleep(int(st.get("ms", 0)) / 1000.0)
        elif op == "subscribe":
            self.subscribe(frame(st.get("topic", "")))
        elif op == "unsubscribe":
            self.unsubscribe(frame(st.get("topic", "")))
        elif op == "bind":
            out({"bound": self.bind(st["endpoint"])})
        elif op == "connect":
            self.sock.connect(st["endpoint"])
        elif op == "unbind":
            self.sock.unbind(st["endpoint"])
        elif op == "disconnect":
            self.sock.disconnect(st["endpoint"])
        elif op == "drain":
            n, end = 0, time.monotonic() + int(st.get("ms", 0)) / 1000.0
            while True:
                left = (end - time.monotonic()) * 1000
                if left <= 0:
                    break
                if self.try_recv(left) is not None:
                    n += 1
            out({"drained": n})
        elif op == "expect_none":
            msg = self.try_recv(int(st.get("ms", 0)))
            if msg is not None:
                raise Fail("expect_none: got a message %r" % hexes(msg)[:4])
        elif op == "send_loop":
            self.send_loop(st)
        elif op == "events":
            self.events(st)
        elif op == "interactive":
            self.interactive()
        # --- op "setsockopt" (publish-subscribe options tests) ---
        # {"op": "setsockopt", "name": "SUBSCRIBE", "value": "41"}: set any
        # option by zmq name on the live socket, an integer or bytes (hex),
        # as "sockopts" does at the start; e.g. SUBSCRIBE on an XPUB with
        # XPUB_MANUAL.
        elif op == "setsockopt":
            const = getattr(zmq, str(st.get("name", "")).upper(), None)
            if not isinstance(const, int):
                raise SpecError("unknown socket option %r" % st.get("name"))
            value = st.get("value", 0)
            self.sock.setsockopt(const, frame(value) if isinstance(value, str) else int(value))
        # --- end of op "setsockopt" ---
        else:
            raise SpecError("unknown op %r" % op)

    def send_loop(self, st):
        msgs = [frames(m) for m in st.get("messages", [])]
        if not msgs:
            raise SpecError("send_loop needs messages")
        interval = int(st.get("interval_ms", 5)) / 1000.0
        end = time.monotonic() + int(st.get("max_ms", 20000)) / 1000.0
        recv_too = bool(st.get("recv_too", False))
        i = 0
        while True:
            self.send(msgs[i % len(msgs)])
            i += 1
            if recv_too:
                while True:
                    msg = self.try_recv(0)
                    if msg is None:
                        break
                    out({"msg": hexes(msg)})
            line = STDIN.readline(interval)
            if line is not None:
                break  # a line, or EOF: stop
            if time.monotonic() > end:
                raise Fail("send_loop: no stop line on stdin within max_ms (%d sent)" % i)
        out({"sent": i})

    def interactive(self):
        while True:
            line = STDIN.readline()
            if line is None or (line == b"" and STDIN.eof):
                return
            line = line.strip()
            if not line:
                continue
            try:
                st = json.loads(line)
            except ValueError as e:
                raise SpecError("bad step line %r: %s" % (line[:80], e))
            if isinstance(st, dict) and st.get("op") == "exit":
                return
            self.step(st)
            out({"ack": st.get("op")})

    def close(self):
        if self.mon is not None:
            try:
                self.sock.disable_monitor()
            except zmq.ZMQError:
                pass
            self.mon.close(linger=0)
        self.sock.close()
        if self.auth is not None:
            # zmq_close returns before the socket's connections are torn
            # down: a handshake still under way (an azmq client
            # reconnecting after a refusal) that sends its ZAP request
            # after the handler is gone makes libzmq 4.3 abort
            # (zap_client.cpp:78, ENOTCONN). Give them time to go first.
            time.sleep(0.2)
            self.auth.stop()
        self.ctx.term()


def load_spec(argv):
    if len(argv) > 1:
        arg = argv[1]
        if arg.startswith("@"):
            with open(arg[1:]) as f:
                return json.load(f)
        return json.loads(arg)
    line = STDIN.readline()
    if not line:
        raise SpecError("no spec on argv or stdin")
    return json.loads(line)


def main(argv):
    try:
        spec = load_spec(argv)
        peer = Peer(spec)
    except (SpecError, ValueError, KeyError, TypeError) as e:
        sys.stderr.write("peer.py: bad spec: %s\n" % e)
        return 2
    except zmq.ZMQError as e:
        sys.stderr.write("peer.py: setup: %s\n" % e)
        return 1
    out({"ready": peer.endpoint})
    try:
        for i, st in enumerate(spec.get("steps", []) or []):
            try:
                peer.step(st)
            except (Fail, zmq.ZMQError) as e:
                raise Fail("step %d (%s): %s" % (i, st.get("op") if isinstance(st, dict) else "?", e))
    except Fail as e:
        sys.stderr.write("peer.py: %s %s: %s\n" % (peer.tname, peer.endpoint, e))
        return 1
    except (SpecError, ValueError, KeyError, TypeError) as e:
        sys.stderr.write("peer.py: bad step: %s\n" % e)
        return 2
    out({"done": True})
    peer.close()
    return 0


if __name__ == "__main__":
    try:
        rc = main(sys.argv)
    except BaseException:  # noqa: a traceback, then out (an authenticator thread must not keep us alive)
        import traceback
        traceback.print_exc()
        rc = 1
    sys.stdout.flush()
    sys.stderr.flush()
    if rc:
        os._exit(rc)  # skip joining threads: a started ThreadAuthenticator would block the exit
    sys.exit(0)
