//go:build !linux

// Not Linux: no abstract unix-socket namespace, so "ipc://@name" is refused.

package transport

// Only Linux has the abstract unix-socket namespace; elsewhere "@name" would
// silently become a file called "@name", so it is rejected instead.
const abstractNamespace = false
