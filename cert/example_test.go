package cert_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/azmq/azmq"
	"github.com/azmq/azmq/cert"
)

// A server's certificate: the secret file stays with the server, the
// public one goes to its clients.
func ExampleNew() {
	c, err := cert.New()
	if err != nil {
		log.Fatal(err)
	}
	c.Metadata["name"] = "server"
	fmt.Println(len(c.PublicKey), len(c.SecretKey))
	// Output: 40 40
}

// Save writes NAME.key and NAME.key_secret, the names pyzmq uses.
func ExampleCert_Save() {
	dir, _ := os.MkdirTemp("", "certs")
	defer os.RemoveAll(dir)
	c, err := cert.New()
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Save(filepath.Join(dir, "server.key")); err != nil {
		log.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		fmt.Println(e.Name())
	}
	// Output:
	// server.key
	// server.key_secret
}

// Load reads a certificate and its secret file; its keys go to the socket
// options as they are.
func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "certs")
	defer os.RemoveAll(dir)
	server, _ := cert.New()
	server.Save(filepath.Join(dir, "server.key"))
	client, _ := cert.New()
	client.Save(filepath.Join(dir, "client.key"))

	// The client knows the server's public certificate and its own pair.
	srvPub, err := cert.Load(filepath.Join(dir, "server.key"))
	if err != nil {
		log.Fatal(err)
	}
	own, err := cert.Load(filepath.Join(dir, "client.key_secret"))
	if err != nil {
		log.Fatal(err)
	}
	opt := azmq.WithCurveClient(srvPub.PublicKey, own.PublicKey, own.SecretKey)
	_ = opt
	fmt.Println(srvPub.PublicKey == server.PublicKey, own.SecretKey == client.SecretKey)
	// Output: true true
}

// LoadDir reads the public certificates of a directory, as pyzmq's
// load_certificates does.
func ExampleLoadDir() {
	dir, _ := os.MkdirTemp("", "certs")
	defer os.RemoveAll(dir)
	for _, name := range []string{"alice", "bob"} {
		c, _ := cert.New()
		c.Metadata["name"] = name
		c.Save(filepath.Join(dir, name+".key"))
	}
	certs, err := cert.LoadDir(dir)
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range certs {
		fmt.Println(c.Metadata["name"], c.SecretKey == "")
	}
	// Output:
	// alice true
	// bob true
}

// A malformed file is an error that names the file and line.
func ExampleParse() {
	_, err := cert.Parse("client.key", []byte("curve\n    public-key = \"short\"\n"))
	fmt.Println(err)
	// Output: cert: client.key:2: public-key: want 40 Z85 characters, have 5
}

// A secret key alone (from azmq keygen, say) makes a certificate: the
// public key is derived from it.
func ExampleFromSecretKey() {
	c, err := cert.FromSecretKey("JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.PublicKey)
	// Output: rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7
}

// StatDir tells cheaply whether a directory's certificates changed, and
// so whether LoadDir is worth calling again.
func ExampleStatDir() {
	dir, _ := os.MkdirTemp("", "certs")
	defer os.RemoveAll(dir)
	before, err := cert.StatDir(dir)
	if err != nil {
		log.Fatal(err)
	}
	c, _ := cert.New()
	c.SavePublic(filepath.Join(dir, "new.key"))
	after, _ := cert.StatDir(dir)
	fmt.Println(before.Equal(after))
	// Output: false
}
