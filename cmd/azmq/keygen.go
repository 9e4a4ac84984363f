package main

import (
	"fmt"
	"io"

	"github.com/azmq/azmq"
)

const keygenUsage = `Usage: azmq keygen

Prints a new CURVE key pair in Z85, as libzmq's curve_keygen does. Give the
secret key to the server (azmq.WithCurveServer) and the public key to its
clients (azmq.WithCurveClient's serverPublicKey).

Example:
  $ azmq keygen
  == CURVE PUBLIC KEY ==
  rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7
  == CURVE SECRET KEY ==
  JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6
`

// keygen prints a fresh CURVE key pair in curve_keygen's format.
func keygen(args []string, stdout io.Writer) error {
	if len(args) > 0 {
		if args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
			io.WriteString(stdout, keygenUsage)
			return nil
		}
		return usageErr("keygen takes no arguments")
	}
	pub, sec, err := azmq.NewCurveKeyPair()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "== CURVE PUBLIC KEY ==\n%s\n== CURVE SECRET KEY ==\n%s\n", pub, sec)
	return nil
}
