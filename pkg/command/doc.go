// Package command is the vocabulary of ghmicons's commands (power, bootdev,
// info, break, status, help): one table, used by every front end. The
// program's one-shot commands (ghmicons power status), its --power and
// --bootdev, the console's ~C prompt and its help, the escape help, the
// usage text, completion at the prompt and the man pages are all made from
// the table's rows, so that a new command is one row.
//
// A row names a command, its usage lines, a line of help, where it is
// offered (Scope), whether it is local (runs without the BMC, in order with
// the input), and how to parse and run it. Parse turns words into a Call
// (typed arguments, and whether a prompt asks y/N first); Call.Run runs it
// on a Target, a plain session (OnSession) or a *console.Console, and
// returns a Result: typed values (the power state, the boot flags) for
// tools that act on them, and the text a one-shot command prints or a
// console notes.
//
//	call, err := command.Parse(command.OneShot, []string{"power", "status"})
//	...
//	res, err := call.Run(ctx, command.OnSession(s))
//	fmt.Print(res.Output) // Chassis Power is on
//
// Nothing here prints.
package command
