// Package console keeps one BMC's Serial-over-LAN console alive, for any
// number of front ends at once, and knows nothing of terminals: the
// ghmicons program is one front end (a terminal or a pipe), a console
// server's SSH viewers and logs are others.
//
// # Layers
//
//	pkg/ipmi      the RMCP+ session: setup, integrity, encryption, requests
//	pkg/sol       one SOL stream on a session: Window (the protocol, pure)
//	              and Stream (Read, Write, SendBreak, events, Close)
//	pkg/console   this package: a Console dials, activates, keeps alive,
//	              reconnects with backoff, follows the takeover policy, fans
//	              the output out to Readers, takes input from one Writer,
//	              publishes Events and runs commands through its session
//	pkg/command   the command vocabulary (power, bootdev, info, break,
//	              status, help), run on a session or a Console
//	internal/cli  the program: flags, terminal, escapes, the ~C prompt
//
// # Goroutines
//
// One goroutine, the owner, holds a Console's state; every method reaches
// it as a message and is answered at once, so no call waits for the BMC.
// The blocking I/O runs on goroutines of its own: a connection attempt
// (Dial, session setup, Activate Payload), the sender (Stream.Write, which
// blocks while the BMC accepts nothing), the copier (Stream.Read, and the
// pace of the lossless readers), and the closing of streams (drain,
// Deactivate Payload, Close Session, each bounded by the request timeout).
// No lock is held across I/O.
//
// # Output: lossless and lossy readers
//
// A lossless Reader (the default) gets every byte, in order. When it falls
// behind the copier waits for it, the stream stops taking output, and the
// SOL window defers its ACKs, so the BMC waits: one slow lossless reader
// slows the whole console down, as a slow terminal does, and nothing is
// lost. Use it for a program's stdout and for logs (Log.Follow).
//
// A lossy Reader (ReaderConfig.Lossy) never holds anything up: when its
// buffer is full it skips output and is told so (Chunk.Skipped, a
// *LagError from Read, a ReaderLagged event). Use it for viewers. A reader
// can start with a replay of the latest output (Config.History,
// ReaderConfig.Replay) and can take the events in order with the output
// (ReaderConfig.Events), so that a log shows each note where it happened.
//
// # Input: one writer at a time
//
// A Writer holds the console's write lease; NewWriter with Force takes it
// from the holder (a console server's "force" role). A lossless Writer
// waits while the input queue is full and holds input for the next session
// while there is none (a pipe); a lossy one (someone typing) never waits,
// drops what does not fit and says so once (InputDiscarded). SendBreak
// queues a BREAK in order with the input.
//
// # Policies
//
// Reconnect keeps the console alive: after every loss or failed attempt it
// waits the next step of Backoff (1 s doubling to 60 s, ±20%, reset only
// after a session stayed up 30 s). A loss is reconnected taking the console
// over (it is most likely held by our own dead session); after a takeover
// the console does not take it back but checks, without stealing, until it
// is free; Reconnect takes it back at once. NoSteal never takes it over.
// Authentication and incompatibility end the console (Permanent). Events a
// broken BMC could repeat on every packet are rate-limited per group: the
// first at once, then one Suppressed summary per window.
//
// # Embedding a console
//
//	c, err := console.New(console.Config{
//		Addr:      "bmc1.example.net:623",
//		Session:   ipmi.Config{Username: "admin", Password: pw},
//		Reconnect: true,
//	})
//	out := c.NewReader(console.ReaderConfig{Name: "stdout"})
//	events := c.Events(0)
//	c.Start(ctx)
//	go io.Copy(os.Stdout, out)
//	w, _ := c.NewWriter(console.WriterConfig{})
//	go io.Copy(w, os.Stdin)
//	for ev := range events.C {
//		log.Print(ev) // connected, lost, reconnecting in 2s, …
//	}
//	// Power and boot commands go through the console's own session:
//	call, _ := command.Parse(command.Prompt, []string{"power", "cycle"})
//	res, err := call.Run(ctx, c)
//	...
//	c.Close(ctx)
//
// For a pipe that ends (a script's input), Drain waits until the BMC has
// accepted all input, and WaitQuiet until the BMC has been quiet for its
// whole retransmission span: then all the output it sent is in the readers
// (docs/console.md).
//
// Nothing in this package prints; errors wrap sentinels callers branch on
// (ErrNotConnected, ErrClosed, ErrWriterBusy, ErrLeaseLost, and those of
// packages ipmi and sol).
package console
