package console_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/ghmicons/ghmicons/pkg/console"
	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// Open a console and copy it to stdout: what a program that embeds a SOL
// console does. The BMC here is the simulated one, on a loopback UDP port,
// with a host that echoes what it is sent.
func Example() {
	srv, err := fakebmc.Start(fakebmc.Config{SOL: fakebmc.SOLConfig{Host: fakebmc.EchoHost{},
		RetryInterval: 20 * time.Millisecond, RetryCount: 3}})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	c, err := console.New(console.Config{
		Addr:    srv.Addr(),
		Session: ipmi.Config{Username: "admin", Password: []byte("password")},
	})
	if err != nil {
		log.Fatal(err)
	}
	// Readers and subscriptions made before Start miss nothing.
	out := c.NewReader(console.ReaderConfig{Name: "stdout"}) // lossless: never drops a byte
	events := c.Events(16)
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		log.Fatal(err)
	}
	copied := make(chan error, 1)
	go func() {
		_, err := io.Copy(os.Stdout, out) // ends with the console
		copied <- err
	}()

	for ev := range events.C {
		if ev.Kind == console.Connected {
			fmt.Println("[connected]")
			break
		}
	}
	events.Close()
	w, err := c.NewWriter(console.WriterConfig{Name: "stdin"})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := w.Write([]byte("hello, host\n")); err != nil {
		log.Fatal(err)
	}
	// The end of input: the BMC has taken everything, then has been quiet
	// for its whole retransmission span, so its answer is all here.
	if err := c.Drain(ctx); err != nil {
		log.Fatal(err)
	}
	if _, err := c.WaitQuiet(ctx, 30*time.Second); err != nil {
		log.Fatal(err)
	}
	if err := c.Close(ctx); err != nil { // Deactivate Payload, Close Session
		log.Fatal(err)
	}
	if err := <-copied; err != nil {
		log.Fatal(err)
	}
	// Output:
	// [connected]
	// hello, host
}
