package impair_test

import (
	"fmt"

	"github.com/ghmicons/ghmicons/pkg/impair"
	"github.com/ghmicons/ghmicons/pkg/memnet"
)

// A seeded 20% loss on everything a server sends: the same seed drops the
// same datagrams on every run.
func ExampleWrap() {
	var n memnet.Network
	pc, _ := n.Listen("bmc")
	client, _ := n.Dial("bmc")
	srv := impair.Wrap(pc, impair.Config{Drop: 0.2, Seed: 7})
	defer srv.Close()
	defer client.Close()
	for i := range 100 {
		srv.WriteTo([]byte{byte(i)}, client.LocalAddr())
	}
	fmt.Println("dropped", srv.Stats().Dropped, "of 100")
	// Output: dropped 20 of 100
}

// Each direction on its own: answers are duplicated, requests pass clean.
func ExampleWrapEach() {
	var n memnet.Network
	pc, _ := n.Listen("bmc")
	client, _ := n.Dial("bmc")
	srv := impair.WrapEach(pc, impair.Config{}, impair.Config{Duplicate: 1})
	defer srv.Close()
	defer client.Close()

	client.Write([]byte("request"))
	buf := make([]byte, 64)
	k, from, _ := srv.ReadFrom(buf)
	fmt.Printf("%s\n", buf[:k])
	srv.WriteTo([]byte("answer"), from)
	for range 2 {
		k, _ := client.Read(buf)
		fmt.Printf("%s\n", buf[:k])
	}
	// Output:
	// request
	// answer
	// answer
}

// SetSilent makes a peer go silent, as a BMC that reboots or a cut cable.
func ExampleConn_SetSilent() {
	var n memnet.Network
	pc, _ := n.Listen("bmc")
	client, _ := n.Dial("bmc")
	srv := impair.Wrap(pc, impair.Config{})
	defer srv.Close()
	defer client.Close()
	srv.SetSilent(true)
	srv.WriteTo([]byte("unheard"), client.LocalAddr())
	srv.SetSilent(false)
	srv.WriteTo([]byte("heard"), client.LocalAddr())
	buf := make([]byte, 64)
	k, _ := client.Read(buf)
	fmt.Printf("%s\n", buf[:k])
	// Output: heard
}
