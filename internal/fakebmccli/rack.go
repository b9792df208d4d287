package fakebmccli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"text/tabwriter"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
)

// rackRunner serves specs as a fakebmc.Rack and logs what it does.
type rackRunner struct {
	rack    *fakebmc.Rack
	logw    io.Writer
	verbose bool
	named   bool // a rack (--count, --config): names in the log lines
	specs   map[string]*bmcSpec
}

// serveRack serves specs until ctx ends. named says whether the BMCs are
// a rack (their names in the log) or the one BMC of the plain flags.
func serveRack(ctx context.Context, logw io.Writer, specs []*bmcSpec, verbose, named bool) error {
	r := &rackRunner{rack: fakebmc.NewRack(), logw: logw, verbose: verbose, named: named, specs: map[string]*bmcSpec{}}
	defer r.rack.Close()
	for _, sp := range specs {
		if err := r.add(sp); err != nil {
			return err
		}
	}
	if named {
		fmt.Fprintf(logw, "fakebmc: rack of %d BMCs serving RMCP+\n", r.rack.Len())
	}
	<-ctx.Done()
	return nil
}

// add starts sp's BMC and logs where it serves.
func (r *rackRunner) add(sp *bmcSpec) error {
	b, err := sp.build(r.logw, r.verbose, r.named)
	if err != nil {
		return err
	}
	m, err := r.rack.Add(b)
	if err != nil {
		if c, ok := b.Config.SOL.Host.(io.Closer); ok {
			c.Close()
		}
		if !r.named {
			var oe *net.OpError
			if errors.As(err, &oe) {
				return oe
			}
		}
		return err
	}
	r.specs[sp.Name] = sp
	r.logServing(sp, m, b.Config.SOL.Host)
	return nil
}

func (r *rackRunner) logServing(sp *bmcSpec, m *fakebmc.RackMember, host fakebmc.Host) {
	who := ""
	if r.named {
		who = sp.Name + ": "
	}
	serial := sp.Serial
	if serial == "" {
		serial = "demo"
	}
	fmt.Fprintf(r.logw, "fakebmc: %sserving RMCP+ on %s (user %s, cipher suites %v, serial %s)\n",
		who, m.Addr(), sp.Users[0].Name, sp.Suites, serial)
	if p, ok := host.(interface{ Path() string }); ok {
		fmt.Fprintf(r.logw, "fakebmc: %sserial line on %s\n", who, p.Path())
	}
}

// printList writes the rack's table: what --list shows.
func printList(w io.Writer, specs []*bmcSpec) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tADDRESS\tPORT\tPROVIDER\tPOWER\tSERIAL")
	for _, sp := range specs {
		host, port, err := net.SplitHostPort(sp.Listen)
		if err != nil {
			host, port = sp.Listen, "?"
		}
		serial := sp.Serial
		if serial == "" {
			serial = "demo"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", sp.Name, host, port, sp.providerName(), sp.power(), serial)
	}
	return tw.Flush()
}

// power is the BMC's power state as --list reports it: the provider's
// status command when it has one, else the built-in state (on at start).
func (sp *bmcSpec) power() string {
	if sp.Provider != nil {
		return sp.Provider.powerText(sp.Name)
	}
	return "on"
}
