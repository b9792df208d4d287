package serve

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/ghmicons/ghmicons/pkg/console"
)

// The SSH front end: a listener, the handshake (public keys and
// certificates only), and session channels: a shell attaches to the
// console the user name names, an exec runs `list`, a console command, or
// attaches.

// Exit statuses of a session.
const (
	ExitOK      = 0
	ExitFailed  = 1 // the command ran and failed (BMC error, not connected)
	ExitUsage   = 2 // the request does not parse
	ExitRefused = 3 // unknown console, not allowed, role too low
	ExitGone    = 4 // the console was stopped (reload) or the server shuts down
)

// HandshakeTimeout bounds a client's handshake.
const HandshakeTimeout = 30 * time.Second

// Server serves the fleet's consoles over SSH.
type Server struct {
	Fleet   *Fleet
	HostKey ssh.Signer
	// CommandTimeout bounds a command run on a console (power, bootdev);
	// 0 means 30 s.
	CommandTimeout time.Duration
	// Errorf reports connection-level trouble; nil drops it.
	Errorf func(format string, args ...any)

	authz  atomic.Pointer[Authz]
	escape atomic.Pointer[string]

	mu     sync.Mutex
	ln     []net.Listener
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// SetConfig takes the keys and escape of a (re)loaded configuration:
// connections made from now on use them; established ones keep their grant.
func (s *Server) SetConfig(a *Authz, escape string) {
	s.authz.Store(a)
	s.escape.Store(&escape)
}

func (s *Server) sshConfig() *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{
		// The grant goes in the Permissions of the key the callback is
		// given; the handshake keeps those of the key that signed.
		PublicKeyCallback: func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			a := s.authz.Load()
			if a == nil {
				return nil, ErrNoAccess
			}
			return a.Check(c.RemoteAddr(), key)
		},
		ServerVersion: "SSH-2.0-ghmicons",
	}
	cfg.AddHostKey(s.HostKey)
	return cfg
}

// Serve accepts connections on ln until Close, which closes ln. After Close
// it closes ln at once and returns net.ErrClosed.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close() // as Close would have: the caller hands it over
		return net.ErrClosed
	}
	if s.conns == nil {
		s.conns = map[net.Conn]struct{}{}
	}
	s.ln = append(s.ln, ln)
	s.mu.Unlock()
	cfg := s.sshConfig()
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return nil
		}
		s.conns[nc] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serveConn(nc, cfg)
			s.mu.Lock()
			delete(s.conns, nc)
			s.mu.Unlock()
		}()
	}
}

// Close stops listening and ends every connection.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	for _, ln := range s.ln {
		ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

func (s *Server) errorf(format string, args ...any) {
	if s.Errorf != nil {
		s.Errorf(format, args...)
	}
}

func (s *Server) serveConn(nc net.Conn, cfg *ssh.ServerConfig) {
	defer nc.Close()
	nc = newQuickAckConn(nc)
	_ = nc.SetDeadline(time.Now().Add(HandshakeTimeout))
	sc, chans, reqs, err := ssh.NewServerConn(nc, cfg)
	if err != nil {
		return // a failed handshake: the client was told
	}
	_ = nc.SetDeadline(time.Time{})
	handshakeDone(nc)
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	// Only the Permissions of the connection are read: those of the key
	// that authenticated (CVE-2024-45337).
	var grant *Grant
	if sc.Permissions != nil {
		grant, err = decodeGrant(sc.Permissions.Extensions[permGrant])
	}
	if grant == nil || err != nil {
		s.errorf("ssh %s: no grant after the handshake", nc.RemoteAddr())
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for nch := range chans {
		if nch.ChannelType() != "session" {
			_ = nch.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nch.Accept()
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ss := &session{srv: s, grant: grant, user: sc.User(), remote: nc.RemoteAddr().String(), ch: ch, reqs: creqs}
			ss.run(ctx)
		}()
	}
	cancel()
	wg.Wait()
}

// LoadHostKey reads the host key at path, or makes an ed25519 key there
// (mode 0600) if there is none.
func LoadHostKey(path string) (ssh.Signer, bool, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		// As sshd: a private key others can read is not used.
		if st, serr := os.Stat(path); serr == nil && runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
			return nil, false, fmt.Errorf("host key %s: mode %04o lets others read it (chmod 600)", path, st.Mode().Perm())
		}
		k, err := ssh.ParsePrivateKey(b)
		if err != nil {
			return nil, false, fmt.Errorf("host key %s: %v", path, err)
		}
		return k, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("host key: %v", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, false, err
	}
	blk, err := ssh.MarshalPrivateKey(priv, "ghmicons serve host key")
	if err != nil {
		return nil, false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("host key: %v", err)
	}
	if _, err := f.Write(pem.EncodeToMemory(blk)); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("host key %s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, false, fmt.Errorf("host key %s: %v", path, err)
	}
	k, err := ssh.NewSignerFromKey(priv)
	return k, true, err
}

// session is one session channel.
type session struct {
	srv    *Server
	grant  *Grant
	user   string
	remote string
	ch     ssh.Channel
	reqs   <-chan *ssh.Request

	pty    bool
	breaks chan struct{} // RFC 4335 break requests
}

// exitf refuses or fails: one line on the channel's stderr, the status.
func (ss *session) exitf(code int, format string, args ...any) int {
	fmt.Fprintf(ss.ch.Stderr(), "ghmicons: %s\n", oneLine(fmt.Sprintf(format, args...)))
	return code
}

func (ss *session) run(ctx context.Context) {
	defer ss.ch.Close()
	ss.breaks = make(chan struct{}, 4)
	var (
		cmd   string
		shell bool
	)
	// Requests before the session starts: pty, env, then shell or exec.
wait:
	for {
		select {
		case req, ok := <-ss.reqs:
			if !ok {
				return
			}
			switch req.Type {
			case "pty-req":
				ok := !ss.grant.NoPTY
				ss.pty = ok
				_ = req.Reply(ok, nil)
			case "shell":
				shell = true
				_ = req.Reply(true, nil)
				break wait
			case "exec":
				var p struct{ Command string }
				if err := ssh.Unmarshal(req.Payload, &p); err != nil {
					_ = req.Reply(false, nil)
					continue
				}
				cmd = p.Command
				_ = req.Reply(true, nil)
				break wait
			default:
				_ = req.Reply(false, nil) // env, subsystems, forwarding: no
			}
		case <-ctx.Done():
			return
		}
	}
	go ss.laterRequests()
	var code int
	if shell {
		code = ss.attach(ctx, ss.user, nil)
	} else {
		code = ss.exec(ctx, cmd)
	}
	_, _ = ss.ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(code)}))
}

// laterRequests answers what comes once the session runs: window
// changes, BREAKs (RFC 4335, OpenSSH's ~B).
func (ss *session) laterRequests() {
	for req := range ss.reqs {
		switch req.Type {
		case "break":
			select {
			case ss.breaks <- struct{}{}:
			default:
			}
			_ = req.Reply(true, nil)
		case "window-change":
			_ = req.Reply(true, nil)
		default:
			_ = req.Reply(false, nil)
		}
	}
}

// target splits "node01[:ro|rw|force]".
func target(s string) (name, mode string) {
	name, mode, _ = strings.Cut(s, ":")
	return name, mode
}

// exec runs an exec request: list, help, "CONSOLE [COMMAND...]", or
// COMMAND... on the console the user name names.
func (ss *session) exec(ctx context.Context, cmd string) int {
	words := strings.Fields(cmd)
	if len(words) == 0 {
		return ss.attach(ctx, ss.user, nil)
	}
	switch strings.ToLower(words[0]) {
	case "list":
		if len(words) > 1 {
			return ss.exitf(ExitUsage, "list takes no arguments")
		}
		return ss.list()
	case "help":
		fmt.Fprint(ss.ch, execHelp())
		return ExitOK
	}
	if name, _ := target(words[0]); ss.srv.visible(ss.grant, name) {
		if len(words) == 1 {
			return ss.attach(ctx, words[0], nil)
		}
		return ss.command(ctx, words[0], words[1:])
	}
	if name, _ := target(ss.user); ss.srv.visible(ss.grant, name) {
		return ss.command(ctx, ss.user, words)
	}
	return ss.exitf(ExitRefused, "%s: no such console for this key (try: list)", words[0])
}

func execHelp() string {
	return `ghmicons serve: ssh [-t] GW CONSOLE[:ro|:rw|:force]   attach (a pty: escapes ^Ec; -T: a binary-clean pipe)
  ssh CONSOLE[:MODE]@GW                          the same, by user name
  ssh GW list                                    the consoles this key may see
  ssh GW CONSOLE COMMAND...                      one command (` + commandNames() + `)
`
}

// visible reports whether the grant gives any role on the running console.
func (s *Server) visible(g *Grant, name string) bool {
	e := s.Fleet.lookup(name)
	return e != nil && g.For(name, e.groupsNow()) >= RoleSpy
}

func (e *entry) groupsNow() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.groups
}

// list prints the state of every console the key may see.
func (ss *session) list() int {
	var b strings.Builder
	fmt.Fprintf(&b, "%-20s %-4s %-13s %-20s %7s %12s  %s\n", "CONSOLE", "ROLE", "STATE", "SINCE", "VIEWERS", "LOGGED", "DETAIL")
	for _, name := range ss.srv.Fleet.Names() {
		e := ss.srv.Fleet.lookup(name)
		if e == nil {
			continue
		}
		role := ss.grant.For(name, e.groupsNow())
		if role == RoleNone {
			continue
		}
		st := e.status()
		state, detail := stateText(st)
		fmt.Fprintf(&b, "%-20s %-4s %-13s %-20s %3d/%-3d %12d  %s\n", name, role, state,
			st.Since.UTC().Format(time.RFC3339), st.Viewers, st.Writers, st.Logged, detail)
	}
	io.WriteString(ss.ch, b.String())
	return ExitOK
}

func stateText(st Status) (state, detail string) {
	switch st.State {
	case console.StateAttached:
		return "connected", ""
	case console.StateWaiting:
		if st.Err != nil {
			return "reconnecting", oneLine(st.Err.Error())
		}
		return "reconnecting", ""
	}
	if st.Err != nil {
		return st.State.String(), oneLine(st.Err.Error())
	}
	return st.State.String(), ""
}
