package fakebmccli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"slices"
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

// rackOpts says how serveRack runs.
type rackOpts struct {
	verbose bool
	named   bool   // a rack (--count, --config): names in the log lines
	source  string // the configuration file, for the log
	// reload, if set, reads the configuration again when hup delivers;
	// applied (tests) is told the outcome of each reload.
	reload  func() ([]*bmcSpec, error)
	hup     <-chan struct{}
	applied chan<- reloadResult
	ready   func(*fakebmc.Rack) // tests: called once every BMC serves
}

// reloadResult is what a reload did.
type reloadResult struct {
	added, removed, changed, kept []string
	err                           error // the file could not be used; nothing changed
	failed                        []error
}

func (r reloadResult) String() string {
	return fmt.Sprintf("%d added, %d removed, %d changed, %d unchanged", len(r.added), len(r.removed), len(r.changed), len(r.kept))
}

// serveRack serves specs until ctx ends, reloading on opts.hup.
func serveRack(ctx context.Context, logw io.Writer, specs []*bmcSpec, opts rackOpts) error {
	r := &rackRunner{rack: fakebmc.NewRack(), logw: logw, verbose: opts.verbose, named: opts.named, specs: map[string]*bmcSpec{}}
	defer r.rack.Close()
	for _, sp := range specs {
		if err := r.add(sp); err != nil {
			return err
		}
	}
	if opts.named {
		fmt.Fprintf(logw, "fakebmc: rack of %d BMCs serving RMCP+\n", r.rack.Len())
	}
	if opts.ready != nil {
		opts.ready(r.rack)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-opts.hup:
			res := r.reload(opts.reload)
			switch {
			case res.err != nil:
				fmt.Fprintf(logw, "fakebmc: reload of %s failed, the rack is unchanged: %v\n", opts.source, res.err)
			default:
				fmt.Fprintf(logw, "fakebmc: reloaded %s: %s\n", opts.source, res)
				for _, err := range res.failed {
					fmt.Fprintf(logw, "fakebmc: reload: %v\n", err)
				}
			}
			if opts.applied != nil {
				opts.applied <- res
			}
		}
	}
}

// reload applies the configuration load returns: BMCs no longer in it
// stop, new ones start, changed ones restart (their sessions end), and
// the others, with their sessions, are not touched.
func (r *rackRunner) reload(load func() ([]*bmcSpec, error)) reloadResult {
	var res reloadResult
	if load == nil {
		res.err = errors.New("nothing to reload")
		return res
	}
	specs, err := load()
	if err != nil {
		res.err = err
		return res
	}
	want := map[string]*bmcSpec{}
	for _, sp := range specs {
		want[sp.Name] = sp
	}
	// Removals first, then changes, then additions: a new BMC may take
	// the address an old one frees.
	for name := range r.specs {
		if want[name] == nil {
			if err := r.rack.Remove(name); err != nil {
				res.failed = append(res.failed, err)
			}
			delete(r.specs, name)
			res.removed = append(res.removed, name)
		}
	}
	existed := map[string]bool{}
	for _, sp := range specs {
		old := r.specs[sp.Name]
		existed[sp.Name] = old != nil
		switch {
		case old == nil:
			continue
		case reflect.DeepEqual(old, sp):
			res.kept = append(res.kept, sp.Name)
			continue
		}
		if err := r.rack.Remove(sp.Name); err != nil {
			res.failed = append(res.failed, err)
		}
		delete(r.specs, sp.Name)
		if err := r.add(sp); err != nil {
			res.failed = append(res.failed, err)
			continue
		}
		res.changed = append(res.changed, sp.Name)
	}
	for _, sp := range specs {
		if existed[sp.Name] {
			continue
		}
		if err := r.add(sp); err != nil {
			res.failed = append(res.failed, err)
			continue
		}
		res.added = append(res.added, sp.Name)
	}
	slices.Sort(res.removed)
	return res
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
