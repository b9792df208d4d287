package memnet_test

import (
	"fmt"

	"github.com/ghmicons/ghmicons/pkg/memnet"
)

// A server endpoint and a client dialed to it exchange datagrams, as two UDP
// sockets would.
func Example() {
	var n memnet.Network
	srv, err := n.Listen("bmc")
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	c, err := n.Dial("bmc")
	if err != nil {
		panic(err)
	}
	defer c.Close()

	c.Write([]byte("ping"))
	buf := make([]byte, 64)
	k, from, _ := srv.ReadFrom(buf)
	fmt.Printf("bmc got %q from %v\n", buf[:k], from)
	srv.WriteTo([]byte("pong"), from)
	k, _ = c.Read(buf)
	fmt.Printf("client got %q from %v\n", buf[:k], c.RemoteAddr())
	// Output:
	// bmc got "ping" from client-1
	// client got "pong" from bmc
}
