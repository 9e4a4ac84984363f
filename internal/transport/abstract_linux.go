// Linux only: the abstract unix-socket namespace ("ipc://@name").

package transport

// Linux (and Android) have the abstract unix-socket namespace ("ipc://@name").
const abstractNamespace = true
