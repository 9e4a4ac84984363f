package wire

import (
	"encoding/hex"
	"strings"
)

// hx decodes space-separated hex, as PROTOCOL.md §7 writes bytes.
func hx(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}

// Byte-exact libzmq 4.3 output from PROTOCOL.md §7 (frame headers included).
var (
	// 7.1 NULL greeting, socket without routing id, ZMTP 3.1.
	vecGreetingNull = hx(`
		ff 00 00 00 00 00 00 00 01 7f 03 01 4e 55 4c 4c
		00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
		00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
		00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00`)

	// 7.2 READY from a DEALER with Identity "abc".
	vecReadyDealerABC = hx(`
		04 2c 05 52 45 41 44 59 0b 53 6f 63 6b 65 74 2d
		54 79 70 65 00 00 00 06 44 45 41 4c 45 52 08 49
		64 65 6e 74 69 74 79 00 00 00 03 61 62 63`)
	// 7.2 variant: DEALER with an empty Identity (also the RFC 37 example).
	vecReadyDealerEmpty = hx(`
		04 29 05 52 45 41 44 59 0b 53 6f 63 6b 65 74 2d
		54 79 70 65 00 00 00 06 44 45 41 4c 45 52 08 49
		64 65 6e 74 69 74 79 00 00 00 00`)
	// 7.2 variant: Identity "abc" plus ZMQ_METADATA X-Zed:1 and X-App:v1.
	vecReadyDealerX = hx(`
		04 43 05 52 45 41 44 59 0b 53 6f 63 6b 65 74 2d
		54 79 70 65 00 00 00 06 44 45 41 4c 45 52 08 49
		64 65 6e 74 69 74 79 00 00 00 03 61 62 63
		05 58 2d 41 70 70 00 00 00 02 76 31 05 58 2d 5a 65 64 00 00 00 01 31`)

	// 7.3 ROUTER READY (empty Identity) and SUB READY.
	vecReadyRouter = hx(`04 29 05 52 45 41 44 59 0b 53 6f 63 6b 65 74 2d 54 79 70 65 00 00 00 06 52 4f 55 54 45 52 08 49 64 65 6e 74 69 74 79 00 00 00 00`)
	vecReadySub    = hx(`04 19 05 52 45 41 44 59 0b 53 6f 63 6b 65 74 2d 54 79 70 65 00 00 00 03 53 55 42`)

	// 7.4 Subscriptions to topic "AB".
	vecSubscribe       = hx(`04 0c 09 53 55 42 53 43 52 49 42 45 41 42`)
	vecCancel          = hx(`04 09 06 43 41 4e 43 45 4c 41 42`)
	vecLegacySubscribe = hx(`00 03 01 41 42`)
	vecLegacyCancel    = hx(`00 03 00 41 42`)

	// 7.5 Heartbeats.
	vecPingTTL2500 = hx(`04 07 04 50 49 4e 47 00 19`)
	vecPongEmpty   = hx(`04 05 04 50 4f 4e 47`)
	vecPongCtx     = hx(`04 0c 04 50 4f 4e 47 63 74 78 2d 31 32 33`)

	// 7.6 ERROR "400", and libzmq's broken PLAIN variant ("^RROR").
	vecError400      = hx(`04 0a 05 45 52 52 4f 52 03 34 30 30`)
	vecError400Plain = hx(`04 09 5e 52 52 4f 52 03 34 30 30`)

	// 7.7 PLAIN handshake commands.
	vecPlainHello   = hx(`04 13 05 48 45 4c 4c 4f 05 61 64 6d 69 6e 06 73 65 63 72 65 74`)
	vecPlainWelcome = hx(`04 08 07 57 45 4c 43 4f 4d 45`)

	// 7.8 Data frames.
	vecReqHello  = hx(`01 00 00 05 68 65 6c 6c 6f`)
	vecTwoPartAB = hx(`01 01 61 00 01 62`)
	vecLong300   = hx(`02 00 00 00 00 00 00 01 2c`)
)

// commandBodies returns the bodies (headers stripped) of the well-formed §7
// command frames.
func commandBodies() [][]byte {
	var out [][]byte
	for _, f := range [][]byte{
		vecReadyDealerABC, vecReadyDealerEmpty, vecReadyDealerX, vecReadyRouter, vecReadySub,
		vecSubscribe, vecCancel, vecPingTTL2500, vecPongEmpty, vecPongCtx,
		vecError400, vecPlainHello, vecPlainWelcome,
	} {
		out = append(out, f[2:])
	}
	return out
}
