//go:build !linux

package serve

import "net"

// quickAcker: only Linux has TCP_QUICKACK; elsewhere the connection is
// used as it is.
func quickAcker(net.Conn) func() { return nil }
