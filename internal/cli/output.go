package cli

// Output: two lossless readers of the console, each copied by a goroutine
// of its own. A stdout or a log that stops taking writes stops only its own
// copy, and through it the console (the BMC is made to wait); the owner
// still sees ~. and signals.

// copyStdout writes the console's output to stdout. It reports the end of
// the output (nil) or a failed write (a *localIOError); after a failure it
// lets go of the console, so that the way out does not wait for it.
func (f *frontend) copyStdout() {
	if f.notes != nil {
		f.copyOrdered() // streamnotes.go
		return
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := f.out.Read(buf)
		if n > 0 {
			if _, werr := f.env.Stdout.Write(buf[:n]); werr != nil {
				f.out.Close()
				f.outDone <- &localIOError{what: "writing console output", err: werr}
				return
			}
			f.copied.Add(uint64(n))
		}
		if err != nil {
			f.outDone <- nil
			return
		}
	}
}

// followLog writes the console's output and notes to the log, in order. A
// failed write is reported on the log's Failed channel.
func (f *frontend) followLog() {
	f.logDone <- f.log.Follow(f.logR, f.logNote)
}
