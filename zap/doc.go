// Package zap is a ready-made ZAP handler (ZeroMQ Authentication Protocol,
// RFC 27) for the sockets of one azmq.Context.
//
// A socket that uses PLAIN or CURVE security (or has a ZAP domain) asks the
// handler bound on inproc://zeromq.zap.01 in its own Context about every
// handshake. Start one in three lines:
//
//	h := zap.NewHandler()
//	h.AddUser("admin", "secret")
//	go h.Serve(ctx, zctx) // until ctx ends
//
// Serve binds in its goroutine, so a handshake made at once may come before
// it; [Handler.Start] binds before it returns and serves in the background.
//
// The handler decides in this order: a request whose version is not "1.0"
// gets 500; an address on the deny list gets 400; when the allow list is
// non-empty, an address not on it gets 400; then NULL passes (200), PLAIN
// passes if the user table holds that user with that password (the
// User-Id is the username), CURVE passes if the client's public key was
// allowed or AllowAnyCurve was called (the User-Id is the key in Z85), and
// anything else gets 400. A request with too few frames gets 500 when it
// carries a request id and is ignored otherwise.
//
// CURVE clients may also be admitted by certificate: [Handler.AllowCurveDir]
// admits the keys of the public certificates (*.key files, as package
// cert and pyzmq write them) in a directory, and looks at the directory
// again at most every [DirRecheck], so certificates added or removed take
// effect while the handler serves.
//
// Each ZAP domain (azmq.WithZAPDomain) may have a policy of its own,
// [Handler.Domain]: its own address lists, users and CURVE keys, which
// decide its requests alone. Domains without one, and the empty domain,
// follow the Handler's own lists. pyzmq's Authenticator differs: its allow
// and deny lists apply to every domain, and its domain "*" stands for the
// empty domain only, so a request for a named domain it has no entry for
// is refused; here such a request follows the global policy.
//
// A decision of your own, perhaps a slow one (a database, a remote
// service), plugs in with [Handler.SetAuthFunc]: it then replaces the user
// table and the key list, after the address lists.
//
// PLAIN passwords are kept as HMAC-SHA-256 digests under a random key of
// the Handler's own, and a check costs the same whether the user exists
// or not and whatever the length of the password given.
//
// The handler decides up to [DefaultWorkers] requests at once
// ([Handler.SetWorkers] changes that) and answers each as soon as it is
// decided, so one slow decision holds up no other. The sockets of an
// azmq.Context send their requests to it pipelined, each under a request
// id of its own.
//
// Every method is safe for concurrent use, and the configuration may change
// while the handler serves: each request sees the configuration of the
// moment it is decided.
package zap
