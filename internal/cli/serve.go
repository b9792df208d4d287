package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/crypto/ssh"

	"github.com/ghmicons/ghmicons/internal/docgen"
	"github.com/ghmicons/ghmicons/internal/serve"
)

// ghmicons serve: every console of a configuration kept connected and
// logged, reached over SSH (internal/serve; docs/serve.md). SIGHUP reloads
// the configuration and reopens the logs; SIGINT and SIGTERM stop it
// (exit status 0).

const serveUsage = `ghmicons serve: every console of a fleet in one process, always logged, reached over SSH

Usage:
  ghmicons serve --config FILE [--listen ADDR:PORT] [--host-key FILE]

  ssh -p 2222 node01@HOST          attach to node01 (node01:ro spies, node01:force takes the write side)
  ssh -p 2222 HOST list            the consoles your key may see, and their state
  ssh -p 2222 HOST node01 power status
  ssh -T -p 2222 HOST node01       a binary-clean pipe (no escapes)

In a session with a terminal the escapes start with ^Ec (Ctrl-E, c):
^Ec. leave, ^Ec? help, ^Ecw who, ^Ecr replay, ^Ecf force, ^Ecb BREAK, ^Ec: a command.
SIGHUP reloads the configuration and reopens the logs. docs/serve.md is the reference.

Flags:
`

type serveOptions struct {
	config, listen, hostKey string
	fs                      *pflag.FlagSet
}

func parseServeOptions(args []string, stderr io.Writer) (*serveOptions, error) {
	o := &serveOptions{}
	fs := pflag.NewFlagSet("ghmicons serve", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	fs.StringVarP(&o.config, "config", "c", "", "the configuration `FILE` (TOML: [ssh], [defaults], [[group]], [[console]])")
	fs.StringVarP(&o.listen, "listen", "l", "", "listen on `ADDR:PORT` (default: [ssh] listen, else "+serve.DefaultListen+")")
	fs.StringVar(&o.hostKey, "host-key", "", "the SSH host key `FILE`, made (ed25519, mode 0600) if missing "+
		"(default: [ssh] host_key, else ssh_host_ed25519_key beside the configuration)")
	fs.Usage = func() { fmt.Fprint(stderr, serveUsage+fs.FlagUsages()) }
	o.fs = fs
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usagef("serve: unexpected argument %q (see ghmicons serve --help)", fs.Arg(0))
	}
	if o.config == "" {
		return nil, usagef("serve: --config FILE is required (see ghmicons serve --help)")
	}
	return o, nil
}

// lockedWriter serialises lines from the fleet's goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "ghmicons serve: %s\n", oneLine(fmt.Sprintf(format, args...)))
}

func runServe(args []string, env Env) error {
	o, err := parseServeOptions(args, env.Stderr)
	if err != nil {
		var ue *usageError
		if errors.Is(err, pflag.ErrHelp) || errors.As(err, &ue) {
			return err
		}
		return &usageError{"serve: " + err.Error() + " (see ghmicons serve --help)"}
	}
	getenv := func(k string) (string, bool) { return env.Getenv(k) }
	cfg, err := serve.Load(o.config, getenv)
	if err != nil {
		return &usageError{err.Error()}
	}
	az, err := serve.LoadAuthz(cfg)
	if err != nil {
		return &usageError{err.Error()}
	}
	listen := cfg.Listen
	if o.fs.Changed("listen") {
		listen = o.listen
	}
	keyPath := cfg.HostKey
	if o.fs.Changed("host-key") {
		keyPath = o.hostKey
	}
	if keyPath == "" {
		keyPath = filepath.Join(filepath.Dir(o.config), "ssh_host_ed25519_key")
	}
	out := &lockedWriter{w: env.Stderr}
	hk, made, err := serve.LoadHostKey(keyPath)
	if err != nil {
		return err
	}
	if made {
		out.printf("made the host key %s (%s)", keyPath, ssh.FingerprintSHA256(hk.PublicKey()))
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("serve: %v", err)
	}
	fleet := &serve.Fleet{Errorf: out.printf}
	srv := &serve.Server{Fleet: fleet, HostKey: hk, Errorf: out.printf}
	srv.SetConfig(az, cfg.Escape)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	if err := fleet.Start(context.Background(), cfg); err != nil {
		out.printf("%v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	out.printf("%d consoles; listening on %s (host key %s)", len(cfg.Consoles), ln.Addr(), ssh.FingerprintSHA256(hk.PublicKey()))
	for {
		select {
		case err := <-served:
			_ = fleet.Close(context.Background())
			return fmt.Errorf("serve: %v", err)
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				reload(o.config, getenv, fleet, srv, out)
				continue
			}
			out.printf("%s: stopping", signalName(sig))
			_ = srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			err := fleet.Close(ctx)
			cancel()
			if err != nil {
				out.printf("%v", err)
			}
			return nil
		}
	}
}

// reload applies the configuration file again (SIGHUP): consoles added,
// removed, changed; every log reopened. A configuration that does not load
// leaves the running one as it is (the logs are reopened all the same).
func reload(path string, getenv func(string) (string, bool), fleet *serve.Fleet, srv *serve.Server, out *lockedWriter) {
	cfg, err := serve.Load(path, getenv)
	var az *serve.Authz
	if err == nil {
		az, err = serve.LoadAuthz(cfg)
	}
	if err != nil {
		out.printf("SIGHUP: %v; keeping the running configuration", err)
		if err := fleet.ReopenLogs(); err != nil {
			out.printf("%v", err)
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := fleet.Apply(ctx, cfg); err != nil {
		out.printf("SIGHUP: %v", err)
	}
	srv.SetConfig(az, cfg.Escape)
	out.printf("SIGHUP: reloaded %s: %d consoles; logs reopened", path, len(cfg.Consoles))
}

// The man page's SERVE section (manpage.go adds it), from serve's flags.
const (
	manServe = `ghmicons serve keeps every console of a configuration file connected and logged,
reconnecting with a backoff whose jitter grows with the fleet, and serves them over
SSH: ssh -p 2222 node01@HOST attaches to node01 (node01:ro spies, node01:force takes
the write side from the other read-write viewers), ssh HOST list shows the consoles
the key may see with their state, ssh HOST node01 power status runs one command of
the table and gives its exit status, and ssh -T HOST node01 is a binary-clean pipe.
Keys are OpenSSH authorized_keys files for every console, a group or one console
(role="ro" makes a key a spy's), and user certificates of the CAs in
[ssh] user_ca_keys, whose principals name consoles or groups. No passwords.`

	manServe2 = `With a terminal a session replays the last replay bytes of the console (4 KiB
by default), then the live output, and reads escapes that OpenSSH's ~ does not
take: ^Ec (Ctrl-E, c) then . leave, ? help, w who is attached, r replay the
history, f force, b BREAK, : a command line (the ~C commands). SIGHUP reloads the
configuration (consoles added, removed or changed restart; the others keep their
sessions) and reopens every log (logrotate); SIGINT and SIGTERM stop the server,
exit status 0. A configuration that does not load is exit status 2. Session exit
statuses: 0 done, 1 the command failed, 2 usage, 3 refused (no such console for the
key, role too low), 4 the console was stopped. docs/serve.md is the reference.`
)

// serveHelpFlags returns the FlagSet of ghmicons serve --help.
func serveHelpFlags() []docgen.Flag {
	o, err := parseServeOptions([]string{"--config", "x"}, io.Discard)
	if err != nil {
		panic("cli: the serve options do not parse: " + err.Error())
	}
	return docgen.Flags(o.fs)
}

func serveManSection() docgen.Section {
	return docgen.Section{Title: "Serve", Blocks: []docgen.Block{docgen.Para(manServe),
		docgen.Options(serveHelpFlags()), docgen.Para(manServe2)}}
}
