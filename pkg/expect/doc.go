// Package expect automates a console: send text, wait for a pattern in the
// output, capture what it matched, in the spirit of powerman's device
// scripts and of expect(1). It is pure: it reads the console's output from
// a Source and writes input to an io.Writer; the console engine
// (pkg/console) supplies both, and the command table (pkg/command) runs the
// power and boot-device lines of a script on a Target.
//
// # Scripts
//
// A script is a text of one statement a line (docs/expect.md):
//
//	# comments start with #
//	timeout 5m                       # the default wait of the expects after it
//	power cycle                      # any command of the ~C prompt's table
//	expect /login: $/
//	send "root\r"
//	expect /Password:/ timeout 10s
//	send "${env:ROOT_PASSWORD}\r"
//	expect /# $/
//	send "ip -4 -o addr show eth0\r"
//	expect /inet (?P<ip>[0-9.]+)/
//	print "ip=${ip}"
//	delay 500ms
//
// Strings are in double quotes with the escapes \r \n \t \e (ESC) \\ \" \$
// and \xHH; $1 … $9 (or ${12}) are the groups of the latest expect's match,
// ${name} a named group of any earlier expect, ${env:NAME} an environment
// variable. Parse checks every reference against the expects before it, so
// a script that would use a capture nobody made does not start.
//
// # Matching
//
// Each expect matches a regular expression (Go's RE2 syntax) against the
// output not yet consumed: everything since the previous match, at most
// Window bytes (older output slides out, so a pattern split across chunks
// or packets is found as long as it fits). A match consumes the output up
// to its end. Escape sequences (ECMA-48 CSI, OSC and the like, as BIOS
// setup screens and shells write) and NULs are left out of the text that
// is matched; cursor motions become one space, so that a screen that moves
// the cursor instead of writing spaces still reads as words. ^ and $ are
// the ends of the unconsumed text unless the pattern says (?m). A command
// line (power, bootdev, …) forgets the output before it: an expect after
// "power cycle" waits for the new boot, not for the login prompt the host
// showed before.
//
// Nothing in this package prints or logs: print statements go to the
// Print writer, command results to the Note callback, and errors say
// where they happened (FILE:LINE, or the flag).
package expect
