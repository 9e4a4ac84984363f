// What jszmq takes from node's url module, for the browser: its
// WebSocketListener (bind, which the page never calls) is loaded with the
// rest of the library and asks for URL and parse.
exports.URL = globalThis.URL;
exports.parse = (u) => new URL(u, "http://host.invalid");
