// A JeroMQ peer for azmq's interop tests: JeroMQ 0.3.x speaks ZMTP 2.0, so
// it stands for libzmq 3.x peers. Run as a single-file program, no build step:
//
//     java -cp /usr/share/java/jeromq.jar interop/jeromq/Peer.java '<spec>'
//
// The spec is peer.py's, in the subset this peer knows:
//
//     {"type": "PULL",                    # PAIR PUB SUB REQ REP DEALER ROUTER PULL PUSH
//      "bind": ["tcp://127.0.0.1:*"],     # or "connect": ["tcp://127.0.0.1:5555"]
//      "options": {"routing_id": "6964", "subscribe": ["41"]}}   # hex
//
// It prints {"ready": endpoint} once bound or connected (the bound endpoint
// with its port), then runs the steps it reads from stdin, one JSON object
// a line:
//
//     {"op": "send", "frames": ["6869", ...], "count": 1}
//     {"op": "recv", "count": 1}       # prints {"msg": [hex frames]} per message
//     {"op": "echo", "count": 1}       # recv, print, send the same frames back
//     {"op": "sleep", "ms": 100}
//
// and prints {"done": true} when stdin ends. An error prints {"error": text}
// and exits with status 1. Every recv waits at most 20 s.
//
// The JSON it reads is what the Go tests write (json.Marshal of flat maps),
// so a few patterns read it; this is no general JSON parser.

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.zeromq.ZMQ;

public class Peer {
    static String str(String js, String key) {
        Matcher m = Pattern.compile("\"" + key + "\":\"([^\"]*)\"").matcher(js);
        return m.find() ? m.group(1) : null;
    }

    static List<String> strs(String js, String key) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile("\"" + key + "\":\\[([^\\]]*)\\]").matcher(js);
        if (!m.find()) {
            return null;
        }
        Matcher s = Pattern.compile("\"([^\"]*)\"").matcher(m.group(1));
        while (s.find()) {
            out.add(s.group(1));
        }
        return out;
    }

    static int num(String js, String key, int dflt) {
        Matcher m = Pattern.compile("\"" + key + "\":(\\d+)").matcher(js);
        return m.find() ? Integer.parseInt(m.group(1)) : dflt;
    }

    static byte[] unhex(String h) {
        byte[] b = new byte[h.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }

    static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder(2 * b.length);
        for (byte x : b) {
            sb.append(String.format("%02x", x & 0xff));
        }
        return sb.toString();
    }

    static void fail(String why) {
        System.out.println("{\"error\": \"" + why.replace("\\", "\\\\").replace("\"", "'") + "\"}");
        System.out.flush();
        System.exit(1);
    }

    static int type(String name) {
        switch (name) {
            case "PAIR": return ZMQ.PAIR;
            case "PUB": return ZMQ.PUB;
            case "SUB": return ZMQ.SUB;
            case "REQ": return ZMQ.REQ;
            case "REP": return ZMQ.REP;
            case "DEALER": return ZMQ.DEALER;
            case "ROUTER": return ZMQ.ROUTER;
            case "PULL": return ZMQ.PULL;
            case "PUSH": return ZMQ.PUSH;
        }
        fail("unknown socket type " + name);
        return -1;
    }

    static List<byte[]> recv(ZMQ.Socket s) {
        List<byte[]> msg = new ArrayList<>();
        do {
            byte[] f = s.recv(0);
            if (f == null) {
                fail("recv: nothing within the timeout");
            }
            msg.add(f);
        } while (s.hasReceiveMore());
        return msg;
    }

    static void print(List<byte[]> msg) {
        StringBuilder sb = new StringBuilder("{\"msg\": [");
        for (int i = 0; i < msg.size(); i++) {
            sb.append(i > 0 ? ", \"" : "\"").append(hex(msg.get(i))).append('"');
        }
        System.out.println(sb.append("]}"));
        System.out.flush();
    }

    static void send(ZMQ.Socket s, List<byte[]> msg) {
        for (int i = 0; i < msg.size(); i++) {
            if (!s.send(msg.get(i), i < msg.size() - 1 ? ZMQ.SNDMORE : 0)) {
                fail("send: not sent within the timeout");
            }
        }
    }

    // bindAnyPort binds base ("tcp://host") to a port the system picks.
    // JeroMQ 0.3 has no "*" port, and its bindToRandomPort tries 49152,
    // 49153, ... in turn: every peer of a run got the same few ports, and
    // a socket of a test just ended, still reconnecting to its peer's
    // port, was taken in by the next test's peer there, which sent it
    // that test's messages. The system's pick is random: the port is free
    // once the probe closes, and no other test knows it.
    static String bindAnyPort(ZMQ.Socket s, String base) throws Exception {
        String host = base.substring(base.indexOf("://") + 3);
        java.net.InetAddress addr = java.net.InetAddress.getByName(host.equals("*") ? "0.0.0.0" : host);
        Exception last = null;
        for (int i = 0; i < 10; i++) {
            int port;
            try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, addr)) {
                port = probe.getLocalPort();
            }
            try {
                s.bind(base + ":" + port);
                return base + ":" + port;
            } catch (Exception e) {
                last = e; // taken between the probe and the bind: another
            }
        }
        fail("bind " + base + ": " + last);
        return null;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            fail("usage: Peer.java SPEC");
        }
        String spec = args[args.length - 1].replace(" ", "");
        ZMQ.Context ctx = ZMQ.context(1);
        ZMQ.Socket s = ctx.socket(type(str(spec, "type")));
        s.setLinger(2000);
        s.setReceiveTimeOut(20000);
        s.setSendTimeOut(20000);
        String id = str(spec, "routing_id");
        if (id != null) {
            s.setIdentity(unhex(id));
        }
        List<String> topics = strs(spec, "subscribe");
        if (topics != null) {
            for (String t : topics) {
                s.subscribe(unhex(t));
            }
        }
        String endpoint;
        List<String> bind = strs(spec, "bind");
        List<String> connect = strs(spec, "connect");
        if (bind != null && !bind.isEmpty()) {
            endpoint = bindAnyPort(s, bind.get(0).replaceAll(":\\*$", ""));
        } else if (connect != null && !connect.isEmpty()) {
            endpoint = connect.get(0);
            s.connect(endpoint);
        } else {
            fail("the spec neither binds nor connects");
            return;
        }
        System.out.println("{\"ready\": \"" + endpoint + "\"}");
        System.out.flush();

        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        for (String line; (line = in.readLine()) != null; ) {
            line = line.replace(" ", "");
            if (line.isEmpty()) {
                continue;
            }
            String op = str(line, "op");
            int count = num(line, "count", 1);
            for (int n = 0; n < count; n++) {
                if ("send".equals(op)) {
                    List<byte[]> msg = new ArrayList<>();
                    for (String f : strs(line, "frames")) {
                        msg.add(unhex(f));
                    }
                    send(s, msg);
                } else if ("recv".equals(op)) {
                    print(recv(s));
                } else if ("sleep".equals(op)) {
                    Thread.sleep(num(line, "ms", 0));
                } else if ("echo".equals(op)) {
                    List<byte[]> msg = recv(s);
                    print(msg);
                    send(s, msg);
                } else {
                    fail("unknown op " + op);
                }
            }
            System.out.println("{\"ack\": \"" + op + "\"}");
            System.out.flush();
        }
        s.close();
        ctx.term();
        System.out.println("{\"done\": true}");
        System.out.flush();
    }
}
