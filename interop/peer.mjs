// A zeromq.js peer for azmq's interop tests, driven by a JSON spec: the
// same design as peer.py, for the libzmq that zeromq.js ships (built with
// the draft API, so it has SERVER CLIENT RADIO DISH GATHER SCATTER, and
// udp:// for RADIO and DISH). zeromq.js is installed in ./node
// (`npm ci` there; scripts/deps.sh does it).
//
//     node --no-warnings peer.mjs '<spec>'     # the spec as argv[2]
//     node --no-warnings peer.mjs @spec.json   # the spec from a file
//     node --no-warnings peer.mjs < spec       # the spec as the first line of stdin
//
// The spec:
//
//     {
//       "type": "SERVER",                   // SERVER CLIENT RADIO DISH GATHER SCATTER, and
//                                           // PAIR PUB SUB REQ REP DEALER ROUTER PULL PUSH XPUB XSUB
//       "bind": ["tcp://127.0.0.1:*"],      // and/or
//       "connect": ["udp://127.0.0.1:5555"],
//       "options": {
//         "linger": 1000,                   // ms (default 1000)
//         "rcvtimeo": 10000,                // ms, the default timeout of every recv (default 10000)
//         "sndtimeo": 10000,                // ms, the default timeout of every send (default 10000)
//         "routing_id": "6964",             // hex; the classic types' ZMQ_ROUTING_ID
//         "join": ["g1", "g2"],             // DISH: groups joined before any bind or connect
//         "subscribe": ["41"],              // SUB: hex topics, after bind and connect
//         "router_mandatory": true, "immediate": true, "conflate": true,
//         "sndhwm": 1000, "rcvhwm": 1000,
//         "heartbeat_ivl": 100, "heartbeat_timeout": 300, "heartbeat_ttl": 500,
//         "curve_server": true, "curve_secretkey": "<z85>",         // CURVE, keys in Z85 as
//         "curve_serverkey": "<z85>", "curve_publickey": "<z85>",   // peer.py takes them
//         "plain_server": true, "plain_username": "u", "plain_password": "p",
//         "js": {"probeRouter": true}       // any other option, by its zeromq.js name
//       },
//       "steps": [ ... ]
//     }
//
// Message bodies are hex strings, or {"fill": BYTE, "len": N}, or {"seq": N}
// (bytes i % 251). A message is "frames": [body, ...], or "data": body for
// the one frame the draft types allow.
//
//     {"op": "send", "data": "...", "count": 1,    // or "frames": [...]
//      "routing_id": N,                            // SERVER: the CLIENT to send to
//      "group": "g",                               // RADIO: the group
//      "retry_ms": 0,                              // retry EHOSTUNREACH/EAGAIN for this long
//      "eagain_ok": false,                         // a send timeout is not an error (prints {"eagain": true})
//      "expect_error": "EHOSTUNREACH"}             // the send must fail so: prints {"error": code}
//    {"op": "recv", "count": 1, "timeout_ms": T}   // prints {"msg": [hex], "routing_id": N} (SERVER),
//                                                  // {"msg": [hex], "group": "g"} (DISH), {"msg": [hex]}
//    {"op": "recv_until", "bodies": [hex, ...],    // recv and print until a message of each of these
//     "timeout_ms": 20000}                         // one-frame bodies has come, failing after timeout_ms
//    {"op": "echo", "count": 1, "timeout_ms": T,   // recv, print (unless quiet), send it back: a SERVER
//     "quiet": false}                              // to the routing id it came from
//    {"op": "join"|"leave", "group": "g"}          // DISH; or "groups": [...]; "expect_error" as for send
//    {"op": "subscribe"|"unsubscribe", "topic": "41"}
//    {"op": "sleep", "ms": 100}
//    {"op": "bind"|"connect"|"unbind"|"disconnect", "endpoint": "..."}  // bind prints {"bound": endpoint}
//    {"op": "drain", "ms": 300}                    // recv and discard for ms; prints {"drained": n}
//    {"op": "expect_none", "ms": 500}              // fail if any message arrives within ms
//    {"op": "send_loop", "messages": [[...], ...], // send the messages in turn (with "group" or
//     "group": "g", "routing_id": N,               // "routing_id" as for send; RADIO: or "groups",
//     "groups": ["g", ...],                        // one for each message) every interval_ms until
//     "interval_ms": 5, "max_ms": 20000,           // a line arrives on stdin (it is consumed), failing
//     "recv_too": false}                           // after max_ms; prints {"sent": n}; recv_too also
//                                                  // prints what arrives meanwhile
//    {"op": "interactive"}                         // read more steps, one JSON object a line, from stdin
//                                                  // until EOF or {"op": "exit"}; prints {"ack": op} after each
//
// Output on stdout, one JSON object a line: {"ready": endpoint} once every
// bind and connect of the spec is done (the last bound endpoint, else the
// last connected one), then what the steps print, then {"done": true}. A
// failure prints {"error": code, "fatal": true, "message": ...}, the message
// also on stderr, and exits with status 1 (2 for a bad spec, 3 when
// zeromq.js cannot be loaded).

import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

class Fail extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

class SpecError extends Error {}

function out(obj) {
  // Writes to a pipe are synchronous on Linux: nothing is lost at exit.
  process.stdout.write(JSON.stringify(obj) + "\n");
}

let zmq, draft;
try {
  // zeromq.js lives in ./node's node_modules, beside this file, not above it.
  const require = createRequire(new URL("./node/package.json", import.meta.url));
  zmq = require("zeromq");
  draft = require("zeromq/draft");
} catch (e) {
  process.stderr.write(`peer.mjs: cannot load zeromq.js (run npm ci in interop/node): ${e.message}\n`);
  process.exit(3);
}

const TYPES = {
  PAIR: zmq.Pair, PUB: zmq.Publisher, SUB: zmq.Subscriber, REQ: zmq.Request, REP: zmq.Reply,
  DEALER: zmq.Dealer, ROUTER: zmq.Router, PULL: zmq.Pull, PUSH: zmq.Push,
  XPUB: zmq.XPublisher, XSUB: zmq.XSubscriber,
  SERVER: draft.Server, CLIENT: draft.Client, RADIO: draft.Radio, DISH: draft.Dish,
  GATHER: draft.Gather, SCATTER: draft.Scatter,
};

// Types that cannot send back what they receive.
const RECV_ONLY = new Set(["SUB", "PULL", "DISH", "GATHER"]);

// Stdin reads stdin lines on demand, with timeouts. It is not touched until
// a step needs it, so a spec on argv never keeps the process waiting on it.
class Stdin {
  constructor() {
    this.buf = "";
    this.lines = [];
    this.eof = false;
    this.started = false;
    this.wake = null;
  }

  start() {
    if (this.started) return;
    this.started = true;
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk) => {
      this.buf += chunk;
      let i;
      while ((i = this.buf.indexOf("\n")) >= 0) {
        this.lines.push(this.buf.slice(0, i));
        this.buf = this.buf.slice(i + 1);
      }
      this.notify();
    });
    process.stdin.on("end", () => {
      if (this.buf !== "") this.lines.push(this.buf);
      this.buf = "";
      this.eof = true;
      this.notify();
    });
  }

  notify() {
    const w = this.wake;
    this.wake = null;
    if (w) w();
  }

  // readline resolves to a line, null after timeoutMs (undefined: no
  // limit), or undefined at EOF with nothing left.
  async readline(timeoutMs) {
    this.start();
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    for (;;) {
      if (this.lines.length > 0) return this.lines.shift();
      if (this.eof) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise((resolve) => {
        this.wake = resolve;
        if (left !== Infinity) setTimeout(resolve, left);
      });
    }
  }

  stop() {
    if (this.started) process.stdin.destroy();
  }
}

const STDIN = new Stdin();

function body(spec) {
  if (typeof spec === "string") {
    if (spec.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(spec)) {
      throw new SpecError(`bad hex body ${JSON.stringify(spec.slice(0, 40))}`);
    }
    return Buffer.from(spec, "hex");
  }
  if (spec && typeof spec === "object") {
    if ("fill" in spec) return Buffer.alloc(Number(spec.len), Number(spec.fill) & 0xff);
    if ("seq" in spec) {
      const b = Buffer.alloc(Number(spec.seq));
      for (let i = 0; i < b.length; i++) b[i] = i % 251;
      return b;
    }
  }
  throw new SpecError(`bad body spec ${JSON.stringify(spec)}`);
}

// message is a step's frames: "frames" (a list) or "data" (one body).
function message(st) {
  if ("data" in st) return [body(st.data)];
  if (!Array.isArray(st.frames)) throw new SpecError("a message needs data or frames (a list)");
  return st.frames.map(body);
}

function hexes(frames) {
  return frames.map((f) => Buffer.from(f).toString("hex"));
}

function errCode(e) {
  return (e && e.code) || "FAIL";
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

class Peer {
  constructor(spec) {
    if (!spec || typeof spec !== "object" || Array.isArray(spec)) {
      throw new SpecError("the spec must be a JSON object");
    }
    const tname = String(spec.type || "").toUpperCase();
    if (!(tname in TYPES)) throw new SpecError(`unknown socket type ${JSON.stringify(spec.type)}`);
    this.tname = tname;
    this.spec = spec;
    const o = spec.options || {};
    this.rcvtimeo = Number(o.rcvtimeo ?? 10000);
    const sopts = { linger: Number(o.linger ?? 1000) };
    const map = {
      routing_id: ["routingId", (v) => body(v).toString("utf8")],
      router_mandatory: ["mandatory", Boolean],
      immediate: ["immediate", Boolean],
      conflate: ["conflate", Boolean],
      sndhwm: ["sendHighWaterMark", Number],
      rcvhwm: ["receiveHighWaterMark", Number],
      heartbeat_ivl: ["heartbeatInterval", Number],
      heartbeat_timeout: ["heartbeatTimeout", Number],
      heartbeat_ttl: ["heartbeatTimeToLive", Number],
      curve_server: ["curveServer", Boolean],
      curve_secretkey: ["curveSecretKey", String],
      curve_serverkey: ["curveServerKey", String],
      curve_publickey: ["curvePublicKey", String],
      plain_server: ["plainServer", Boolean],
      plain_username: ["plainUsername", String],
      plain_password: ["plainPassword", String],
    };
    for (const [name, [prop, conv]] of Object.entries(map)) {
      if (name in o) sopts[prop] = conv(o[name]);
    }
    Object.assign(sopts, o.js || {});
    const known = new Set(["linger", "rcvtimeo", "sndtimeo", "join", "subscribe", "js", ...Object.keys(map)]);
    for (const name of Object.keys(o)) {
      if (!known.has(name)) throw new SpecError(`unknown option ${JSON.stringify(name)}`);
    }
    this.opts = o;
    this.sock = new TYPES[tname](sopts);
    // The sockets are sealed: a send-only type has no receiveTimeout, and
    // the reverse.
    if ("receiveTimeout" in this.sock) this.sock.receiveTimeout = this.rcvtimeo;
    if ("sendTimeout" in this.sock) this.sock.sendTimeout = Number(o.sndtimeo ?? 10000);
    this.endpoint = "";
  }

  // setup joins, binds, connects and subscribes as the spec says.
  async setup() {
    const spec = this.spec;
    for (const g of this.opts.join || []) this.join(g);
    for (const ep of spec.bind || []) await this.bind(ep);
    for (const ep of spec.connect || []) {
      this.sock.connect(ep);
      if (!this.endpoint) this.endpoint = ep;
    }
    for (const t of this.opts.subscribe || []) this.subscribe(body(t), true);
  }

  async bind(ep) {
    await this.sock.bind(ep);
    let le = this.sock.lastEndpoint || ep;
    // libzmq gives a udp bind's endpoint without its scheme.
    if (!le.includes("://")) le = ep.slice(0, ep.indexOf("://") + 3) + le;
    this.endpoint = le;
    return this.endpoint;
  }

  join(g) {
    if (this.tname !== "DISH") throw new SpecError(`join on a ${this.tname} socket`);
    this.sock.join(String(g));
  }

  leave(g) {
    if (this.tname !== "DISH") throw new SpecError(`leave on a ${this.tname} socket`);
    this.sock.leave(String(g));
  }

  subscribe(topic, on) {
    if (this.tname === "SUB") {
      if (on) this.sock.subscribe(topic);
      else this.sock.unsubscribe(topic);
    } else {
      throw new SpecError(`subscribe on a ${this.tname} socket`);
    }
  }

  // sendOpts is the routing id or group a send needs on this type.
  sendOpts(st) {
    if (this.tname === "SERVER") {
      if (st.routing_id === undefined) throw new SpecError("a send on SERVER needs routing_id");
      return { routingId: Number(st.routing_id) };
    }
    if (this.tname === "RADIO") {
      if (st.group === undefined) throw new SpecError("a send on RADIO needs group");
      return { group: String(st.group) };
    }
    return undefined;
  }

  async send(frames, opts, retryMs = 0) {
    const deadline = Date.now() + retryMs;
    const msg = frames.length === 1 ? frames[0] : frames;
    for (;;) {
      try {
        if (opts === undefined) await this.sock.send(msg);
        else await this.sock.send(msg, opts);
        return;
      } catch (e) {
        const code = errCode(e);
        if ((code === "EHOSTUNREACH" || code === "EAGAIN") && Date.now() < deadline) {
          await sleep(10);
          continue;
        }
        throw new Fail(`send of ${frames.length} frame(s) on ${this.tname}: ${e.message}`, code);
      }
    }
  }

  // recv returns {frames, meta} or, after timeoutMs, null (or a Fail unless
  // orNull).
  async recv(timeoutMs, orNull = false) {
    const t = timeoutMs === undefined || timeoutMs === null ? this.rcvtimeo : Number(timeoutMs);
    this.sock.receiveTimeout = Math.max(0, t);
    try {
      const parts = await this.sock.receive();
      const frames = parts.filter((p) => Buffer.isBuffer(p));
      const meta = parts.find((p) => !Buffer.isBuffer(p)) || {};
      return { frames, meta };
    } catch (e) {
      if (errCode(e) === "EAGAIN") {
        if (orNull) return null;
        throw new Fail(`recv on ${this.tname}: no message within ${t} ms`, "EAGAIN");
      }
      throw new Fail(`recv on ${this.tname}: ${e.message}`, errCode(e));
    } finally {
      this.sock.receiveTimeout = this.rcvtimeo;
    }
  }

  msgLine(m) {
    const line = { msg: hexes(m.frames) };
    if (m.meta.routingId !== undefined) line.routing_id = m.meta.routingId;
    if (m.meta.group !== undefined) line.group = Buffer.from(m.meta.group).toString("utf8");
    return line;
  }

  // expecting runs fn; with st.expect_error it must fail with that code,
  // which is then printed as {"error": code, "op": op}.
  async expecting(st, fn) {
    const want = st.expect_error;
    if (want === undefined) return fn();
    try {
      await fn();
    } catch (e) {
      if (e instanceof SpecError) throw e;
      const code = errCode(e);
      if (code !== want) throw new Fail(`${st.op}: failed with ${code} (${e.message}), want ${want}`, code);
      out({ error: code, op: st.op });
      return;
    }
    throw new Fail(`${st.op}: succeeded, want the error ${want}`, "UNEXPECTED_SUCCESS");
  }

  async step(st) {
    if (!st || typeof st !== "object" || !("op" in st)) throw new SpecError(`bad step ${JSON.stringify(st)}`);
    const count = Number(st.count ?? 1);
    switch (st.op) {
      case "send": {
        const frames = message(st);
        const opts = this.sendOpts(st);
        await this.expecting(st, async () => {
          for (let i = 0; i < count; i++) {
            try {
              await this.send(frames, opts, Number(st.retry_ms ?? 0));
            } catch (e) {
              if (!(st.eagain_ok && e.code === "EAGAIN")) throw e;
              out({ eagain: true });
              return;
            }
          }
        });
        break;
      }
      case "recv":
        for (let i = 0; i < count; i++) out(this.msgLine(await this.recv(st.timeout_ms)));
        break;
      case "recv_until": {
        const want = new Set((st.bodies || []).map((h) => body(h).toString("hex")));
        if (want.size === 0) throw new SpecError("recv_until needs bodies");
        const end = Date.now() + Number(st.timeout_ms ?? 20000);
        while (want.size > 0) {
          const left = end - Date.now();
          const m = left > 0 ? await this.recv(left, true) : null;
          if (m === null) {
            throw new Fail(`recv_until: ${want.size} of the bodies did not come within ${st.timeout_ms ?? 20000} ms`, "EAGAIN");
          }
          out(this.msgLine(m));
          if (m.frames.length === 1) want.delete(m.frames[0].toString("hex"));
        }
        break;
      }
      case "echo":
        if (RECV_ONLY.has(this.tname) || this.tname === "RADIO" || this.tname === "SCATTER") {
          throw new SpecError(`echo on a ${this.tname} socket`);
        }
        for (let i = 0; i < count; i++) {
          const m = await this.recv(st.timeout_ms);
          if (!st.quiet) out(this.msgLine(m));
          const opts = this.tname === "SERVER" ? { routingId: m.meta.routingId } : undefined;
          await this.send(m.frames, opts);
        }
        break;
      case "join":
      case "leave": {
        const groups = st.groups ?? [st.group];
        await this.expecting(st, async () => {
          for (const g of groups) {
            try {
              if (st.op === "join") this.join(g);
              else this.leave(g);
            } catch (e) {
              if (e instanceof SpecError) throw e;
              throw new Fail(`${st.op} ${JSON.stringify(g)}: ${e.message}`, errCode(e));
            }
          }
        });
        break;
      }
      case "subscribe":
      case "unsubscribe":
        this.subscribe(body(st.topic ?? ""), st.op === "subscribe");
        break;
      case "sleep":
        await sleep(Number(st.ms ?? 0));
        break;
      case "bind":
        out({ bound: await this.bind(st.endpoint) });
        break;
      case "connect":
        this.sock.connect(st.endpoint);
        break;
      case "unbind":
        await this.sock.unbind(st.endpoint);
        break;
      case "disconnect":
        this.sock.disconnect(st.endpoint);
        break;
      case "drain": {
        let n = 0;
        const end = Date.now() + Number(st.ms ?? 0);
        for (let left = end - Date.now(); left > 0; left = end - Date.now()) {
          if ((await this.recv(left, true)) !== null) n++;
        }
        out({ drained: n });
        break;
      }
      case "expect_none": {
        const m = await this.recv(Number(st.ms ?? 0), true);
        if (m !== null) {
          throw new Fail(`expect_none: got a message ${JSON.stringify(this.msgLine(m)).slice(0, 200)}`, "UNEXPECTED_MESSAGE");
        }
        break;
      }
      case "send_loop":
        await this.sendLoop(st);
        break;
      case "interactive":
        await this.interactive();
        break;
      default:
        throw new SpecError(`unknown op ${JSON.stringify(st.op)}`);
    }
  }

  async sendLoop(st) {
    const msgs = (st.messages || []).map((m) => m.map(body));
    if (msgs.length === 0) throw new SpecError("send_loop needs messages");
    // groups, when given, is each message's group (RADIO), in turn.
    const groups = st.groups;
    const opts = groups ? undefined : this.sendOpts(st);
    const interval = Number(st.interval_ms ?? 5);
    const end = Date.now() + Number(st.max_ms ?? 20000);
    let i = 0;
    for (;;) {
      await this.send(msgs[i % msgs.length], groups ? { group: String(groups[i % groups.length]) } : opts);
      i++;
      if (st.recv_too) {
        for (let m = await this.recv(0, true); m !== null; m = await this.recv(0, true)) out(this.msgLine(m));
      }
      const line = await STDIN.readline(interval);
      if (line !== null) break; // a line, or EOF: stop
      if (Date.now() > end) throw new Fail(`send_loop: no stop line on stdin within max_ms (${i} sent)`, "TIMEOUT");
    }
    out({ sent: i });
  }

  async interactive() {
    for (;;) {
      let line = await STDIN.readline();
      if (line === undefined) return;
      line = line.trim();
      if (line === "") continue;
      let st;
      try {
        st = JSON.parse(line);
      } catch (e) {
        throw new SpecError(`bad step line ${JSON.stringify(line.slice(0, 80))}: ${e.message}`);
      }
      if (st && st.op === "exit") return;
      await this.step(st);
      out({ ack: st.op });
    }
  }

  close() {
    this.sock.close();
  }
}

async function loadSpec(argv) {
  if (argv.length > 2) {
    const arg = argv[2];
    if (arg.startsWith("@")) return JSON.parse(readFileSync(arg.slice(1), "utf8"));
    return JSON.parse(arg);
  }
  const line = await STDIN.readline();
  if (!line) throw new SpecError("no spec on argv or stdin");
  return JSON.parse(line);
}

function fatal(status, code, message) {
  process.stderr.write(`peer.mjs: ${message}\n`);
  out({ error: code, fatal: true, message });
  STDIN.stop();
  process.exit(status);
}

async function main() {
  let spec, peer;
  try {
    spec = await loadSpec(process.argv);
    peer = new Peer(spec);
  } catch (e) {
    return fatal(2, errCode(e), `bad spec: ${e.message}`);
  }
  try {
    await peer.setup();
  } catch (e) {
    return fatal(e instanceof SpecError ? 2 : 1, errCode(e), `setup of ${peer.tname}: ${e.message}`);
  }
  out({ ready: peer.endpoint });
  const steps = spec.steps || [];
  for (let i = 0; i < steps.length; i++) {
    try {
      await peer.step(steps[i]);
    } catch (e) {
      const op = steps[i] && steps[i].op;
      if (e instanceof SpecError) return fatal(2, "BADSPEC", `bad step ${i} (${op}): ${e.message}`);
      return fatal(1, errCode(e), `${peer.tname} ${peer.endpoint}: step ${i} (${op}): ${e.message}`);
    }
  }
  out({ done: true });
  // Closing lets the context's termination at exit wait out the linger,
  // so what was queued last is still delivered.
  peer.close();
  STDIN.stop();
}

main().catch((e) => fatal(1, errCode(e), `unexpected: ${(e && e.stack) || e}`));
