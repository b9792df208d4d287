package cli

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/ghmicons/ghmicons/pkg/command"
	"github.com/ghmicons/ghmicons/pkg/fleet"
	"github.com/ghmicons/ghmicons/pkg/hostlist"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// --powerman: powerman's coprocess interface (powerman.conf(5): a device
// "process |&"). powermand writes commands to our stdin and reads the
// replies with the expect scripts of scripts/powerman/ghmicons.dev. The
// protocol, line by line:
//
//	ghmicons>                      the prompt: ready for a command
//	stat [HOSTLIST]                the power of the hosts (default: all of -H)
//	on|off|cycle|reset HOSTLIST    act, then wait until the new state is confirmed
//	help, quit
//
// Every command is answered with one line per host, "host: on",
// "host: off" or "host: error: why", then the prompt. A state is printed
// only when the BMC reported it (after on, off, cycle and reset: once it
// reports the new state, bounded by --wait-timeout); anything else is an
// error line, which powerman's on="^on$" and off="^off$" can never match.

// powermanPrompt ends every reply.
const powermanPrompt = "ghmicons> "

const powermanHelp = "commands: stat [HOSTLIST], on HOSTLIST, off HOSTLIST, cycle HOSTLIST, reset HOSTLIST, help, quit"

// pmRequest is a command line of the protocol.
type pmRequest struct {
	verb  string // stat, on, off, cycle, reset, help, quit; "" for an empty line
	hosts string // the hostlist; "" means every host (stat only)
}

// parsePowermanLine reads one command line; its error is the reply.
func parsePowermanLine(line string) (pmRequest, error) {
	words := strings.Fields(line)
	if len(words) == 0 {
		return pmRequest{}, nil
	}
	r := pmRequest{verb: strings.ToLower(words[0]), hosts: strings.Join(words[1:], ",")}
	switch r.verb {
	case "stat", "status":
		r.verb = "stat"
	case "on", "off", "cycle", "reset":
		if r.hosts == "" {
			return pmRequest{}, fmt.Errorf("%s: which hosts? (%s HOSTLIST)", r.verb, r.verb)
		}
	case "help", "quit", "exit":
		if r.verb == "exit" {
			r.verb = "quit"
		}
		if r.hosts != "" {
			return pmRequest{}, fmt.Errorf("%s takes no hosts", r.verb)
		}
	default:
		return pmRequest{}, fmt.Errorf("unknown command %q (%s)", words[0], powermanHelp)
	}
	return r, nil
}

// runPowerman serves the protocol on stdin and stdout until quit, the end
// of input or a signal.
func runPowerman(sc *signalScope, o *options, hosts []fleet.Host, cfg ipmi.Config, env Env) error {
	fc, closeDebug, err := o.fleetConfig(cfg, env.Stderr)
	if err != nil {
		return err
	}
	defer closeDebug()
	fc.Wait = o.waitTimeout // powerman hears of a state only once it is confirmed
	s := newPMServer(fleet.New(fc), hosts, env.Stdout)
	lines := make(chan string)
	readErr := make(chan error, 1)
	go func() {
		in := bufio.NewScanner(env.Stdin)
		for in.Scan() {
			select {
			case lines <- in.Text():
			case <-sc.ctx.Done():
				return
			}
		}
		readErr <- in.Err()
	}()
	for {
		if _, err := io.WriteString(s.out, powermanPrompt); err != nil {
			return fmt.Errorf("writing to powerman: %w", err)
		}
		select {
		case <-sc.ctx.Done():
			return sc.err()
		case err := <-readErr:
			if err != nil {
				return fmt.Errorf("reading powerman's commands: %w", err)
			}
			return nil
		case line := <-lines:
			quit, err := s.serve(sc, line)
			if err != nil {
				return err
			}
			if quit {
				return nil
			}
		}
	}
}

type pmServer struct {
	fleet  *fleet.Runner
	hosts  []fleet.Host
	byName map[string]fleet.Host
	out    io.Writer
}

func newPMServer(r *fleet.Runner, hosts []fleet.Host, out io.Writer) *pmServer {
	s := &pmServer{fleet: r, hosts: hosts, byName: map[string]fleet.Host{}, out: out}
	for _, h := range hosts {
		s.byName[h.Name] = h
	}
	return s
}

// serve answers one command line; quit says the protocol ends.
func (s *pmServer) serve(sc *signalScope, line string) (quit bool, err error) {
	r, err := parsePowermanLine(line)
	if err != nil {
		return false, s.reply("error: %s\n", oneLine(err.Error()))
	}
	switch r.verb {
	case "":
		return false, nil
	case "quit":
		return true, nil
	case "help":
		return false, s.reply("%s\n", powermanHelp)
	}
	targets := s.hosts
	var unknown []string
	if r.hosts != "" {
		names, err := hostlist.Expand(r.hosts)
		if err != nil {
			return false, s.reply("error: %s\n", oneLine(err.Error()))
		}
		targets = nil
		for _, n := range names {
			if h, ok := s.byName[n]; ok {
				targets = append(targets, h)
			} else {
				unknown = append(unknown, n)
			}
		}
	}
	for _, n := range unknown {
		if err := s.reply("%s: error: not one of this device's hosts (-H)\n", n); err != nil {
			return false, err
		}
	}
	action := "status"
	if r.verb != "stat" {
		action = r.verb
	}
	call, err := command.Parse(command.OneShot, []string{"power", action})
	if err != nil {
		return false, fmt.Errorf("the command table refuses power %s: %w", action, err)
	}
	var werr error
	s.fleet.Run(sc.ctx, targets, call, func(r fleet.Result) {
		if werr == nil {
			werr = s.reply("%s: %s\n", r.Host.Name, lineText(sc.ctx, call, r))
		}
	})
	return false, werr
}

func (s *pmServer) reply(format string, args ...any) error {
	if _, err := fmt.Fprintf(s.out, format, args...); err != nil {
		return fmt.Errorf("writing to powerman: %w", err)
	}
	return nil
}
