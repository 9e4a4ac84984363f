// The draft patterns measured with zeromq.js (libzmq 4.3.5 with its draft
// API), the way `azmq bench -patterns` measures them with azmq, to put
// beside its table. Both sides run in this one node process, as azmq
// bench runs both in one Go process; every message crosses JavaScript's
// promise machinery, which is part of what a zeromq.js program pays.
//
//   node bench.mjs clientserver tcp|ipc SIZE COUNT   CLIENT->SERVER throughput
//   node bench.mjs clientserver-lat tcp|ipc SIZE N    half a CLIENT/SERVER round trip
//   node bench.mjs radiodish tcp|ipc|udp SIZE COUNT   RADIO->DISH throughput, what arrived
//   node bench.mjs pushpull tcp|ipc|ws SIZE COUNT      PUSH->PULL throughput
//   node bench.mjs reqrep-lat tcp|ipc|ws SIZE N        half a REQ/REP round trip
//
// It prints one JSON line: {"pattern", "transport", "size", "count",
// "received", "msgs_per_s", "mb_per_s", "latency_us"}.
//
// zeromq.js is found in interop/node (npm ci --ignore-scripts there), the
// copy the interop tests use.
import { createRequire } from "node:module";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createSocket } from "node:dgram";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "../../../interop/node/package.json"));
const draft = require("zeromq/draft");
const zmq = require("zeromq");

const [mode, transport, sizeArg, countArg] = process.argv.slice(2);
const size = Number(sizeArg);
const count = Number(countArg);
if (!mode || !transport || !(size >= 0) || !(count > 0)) {
  console.error("usage: node bench.mjs clientserver|clientserver-lat|radiodish|pushpull|reqrep-lat tcp|ipc|udp|ws SIZE COUNT");
  process.exit(2);
}

let dir;
async function endpoint(sock) {
  if (transport === "ipc") {
    dir ??= mkdtempSync(join(tmpdir(), "zjs-bench-"));
    const ep = `ipc://${join(dir, "s")}`;
    await sock.bind(ep);
    return ep;
  }
  if (transport === "ws") {
    await sock.bind("ws://127.0.0.1:*/bench");
    return sock.lastEndpoint;
  }
  if (transport === "udp") {
    const port = await freeUdpPort();
    await sock.bind(`udp://127.0.0.1:${port}`);
    return `udp://127.0.0.1:${port}`;
  }
  await sock.bind("tcp://127.0.0.1:*");
  return sock.lastEndpoint;
}

function freeUdpPort() {
  return new Promise((resolve, reject) => {
    const s = createSocket("udp4");
    s.on("error", reject);
    s.bind(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const now = () => Number(process.hrtime.bigint()) / 1e9;

function report(fields) {
  console.log(JSON.stringify({ transport, size, count, ...fields }));
}

async function clientServer() {
  await throughput(
    "CLIENT/SERVER",
    new draft.Server({ receiveHighWaterMark: 1000, linger: 0 }),
    new draft.Client({ sendHighWaterMark: 1000, linger: 0 }),
  );
}

async function pushPull() {
  await throughput(
    "PUSH/PULL",
    new zmq.Pull({ receiveHighWaterMark: 1000, linger: 0 }),
    new zmq.Push({ sendHighWaterMark: 1000, linger: 0 }),
  );
}

// throughput: sender connects to receiver and sends count messages;
// timed from the first received to the last.
async function throughput(pattern, server, client) {
  client.connect(await endpoint(server));
  const msg = Buffer.alloc(size, 0x61);
  const sender = (async () => {
    for (let i = 0; i < count; i++) await client.send(msg);
  })();
  let first = 0;
  for (let i = 0; i < count; i++) {
    await server.receive();
    if (i === 0) first = now();
  }
  const secs = now() - first;
  await sender;
  client.close();
  server.close();
  const rate = (count - 1) / secs;
  report({ pattern, received: count, msgs_per_s: Math.round(rate), mb_per_s: (rate * size) / 1e6 });
}

async function reqRepLat() {
  const rep = new zmq.Reply({ linger: 0 });
  const req = new zmq.Request({ linger: 0 });
  req.connect(await endpoint(rep));
  const msg = Buffer.alloc(size, 0x61);
  const echo = (async () => {
    for (let i = 0; i < count; i++) {
      const [m] = await rep.receive();
      await rep.send(m);
    }
  })();
  await req.send(msg);
  await req.receive();
  const start = now();
  for (let i = 1; i < count; i++) {
    await req.send(msg);
    await req.receive();
  }
  const secs = now() - start;
  await echo;
  req.close();
  rep.close();
  report({ pattern: "REQ/REP", received: count, latency_us: (secs / (count - 1) / 2) * 1e6 });
}

async function clientServerLat() {
  const server = new draft.Server({ linger: 0 });
  const client = new draft.Client({ linger: 0 });
  client.connect(await endpoint(server));
  const msg = Buffer.alloc(size, 0x61);
  const echo = (async () => {
    for (let i = 0; i < count; i++) {
      const [m, { routingId }] = await server.receive();
      await server.send(m, { routingId });
    }
  })();
  // One round trip first: the connection is up before timing.
  await client.send(msg);
  await client.receive();
  const start = now();
  for (let i = 1; i < count; i++) {
    await client.send(msg);
    await client.receive();
  }
  const secs = now() - start;
  await echo;
  client.close();
  server.close();
  report({ pattern: "CLIENT/SERVER", received: count, latency_us: (secs / (count - 1) / 2) * 1e6 });
}

async function radioDish() {
  const dish = new draft.Dish({ receiveHighWaterMark: 1000, linger: 0 });
  const radio = new draft.Radio({ sendHighWaterMark: 1000, linger: 0 });
  dish.join("bench");
  radio.connect(await endpoint(dish));
  const msg = Buffer.alloc(size, 0x61);
  // One receive at a time may be pending on a zeromq.js socket: a wait
  // that times out keeps its receive for the next wait.
  let pending = null;
  const next = (ms) => {
    pending ??= dish.receive().then((m) => {
      pending = null;
      return m;
    });
    return Promise.race([pending, sleep(ms).then(() => null)]);
  };
  // Probe until the DISH hears the RADIO (its JOIN arrived, or udp is up).
  for (let i = 0; ; i++) {
    await radio.send(Buffer.from("probe"), { group: "bench" });
    if ((await next(20)) !== null) break;
    if (i > 500) throw new Error("the DISH never heard the RADIO");
  }
  await sleep(100);
  let received = 0;
  let first = 0;
  let last = 0;
  let senderDone = false;
  const sender = (async () => {
    for (let i = 0; i < count; i++) await radio.send(msg, { group: "bench" });
    senderDone = true;
  })();
  // Count what arrives until the sender is done and nothing more comes.
  for (;;) {
    const m = await next(senderDone ? 100 : 2000);
    if (m === null) {
      if (senderDone) break;
      continue;
    }
    if (m[0].length !== size) continue; // a late probe
    last = now();
    if (received++ === 0) first = last;
  }
  await sender;
  radio.close();
  dish.close();
  const rate = received > 1 ? (received - 1) / (last - first) : 0;
  report({ pattern: "RADIO/DISH", received, msgs_per_s: Math.round(rate), mb_per_s: (rate * size) / 1e6 });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

try {
  if (mode === "clientserver") await clientServer();
  else if (mode === "clientserver-lat") await clientServerLat();
  else if (mode === "radiodish") await radioDish();
  else if (mode === "pushpull") await pushPull();
  else if (mode === "reqrep-lat") await reqRepLat();
  else throw new Error(`unknown mode ${mode}`);
} finally {
  if (dir) rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
