package serve

import (
	"strings"
	"testing"
)

// The decoders of what comes from outside: the configuration file,
// authorized_keys lines, sizes, and the grant carried through the
// handshake.

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("[defaults]\npassword_env = \"PW\"\nlog = \"/tmp/%s.log\"\n[[console]]\nname = \"n1\"\nbmc = \"10.0.0.1:623\"\ngroups = [\"r\"]\n"))
	f.Add([]byte("[ssh]\nlisten = \"127.0.0.1:2222\"\nescape = \"^Ec\"\n[[group]]\nname = \"r\"\n"))
	f.Add([]byte("[defaults]\nreplay = \"4KiB\"\nhistory = 65536\nkeepalive = \"off\"\n"))
	env := func(string) (string, bool) { return "pw", true }
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("f.toml", data, env)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("a multi-line error: %q", err)
			}
			return
		}
		for _, c := range cfg.Consoles {
			if !nameRE.MatchString(c.Name) || c.Replay > c.History || c.History > MaxHistory || c.Log == "" {
				t.Fatalf("accepted %+v", c.Spec)
			}
		}
	})
}

func FuzzKeyLine(f *testing.F) {
	key := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0wmN/Cr3JXqmLW7u+g9pTh+wyqDHpSQEIQczXkVx9q test"
	f.Add([]byte(key))
	f.Add([]byte(`role="ro",from="10.0.0.0/8,!10.1.2.3" ` + key))
	f.Add([]byte(`cert-authority,no-pty ` + key))
	f.Fuzz(func(t *testing.T, line []byte) {
		k, g, _, err := parseKeyLine(line)
		if err != nil {
			return
		}
		if k == nil || (g.role != RoleSpy && g.role != RoleRW) {
			t.Fatalf("accepted with key %v role %v", k, g.role)
		}
	})
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0", "4KiB", "10 MiB", "1G", "12b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := ParseSize(s); err == nil && n < 0 {
			t.Fatalf("%q: %d", s, n)
		}
	})
}

func FuzzDecodeGrant(f *testing.F) {
	f.Add((&Grant{All: RoleRW, Consoles: map[string]Role{"a": RoleSpy}, Groups: map[string]Role{}, Who: "x"}).encode())
	f.Add("*=0|pty=true|who=|g=r=1")
	f.Fuzz(func(t *testing.T, s string) {
		g, err := decodeGrant(s)
		if err != nil {
			return
		}
		h, err := decodeGrant(g.encode())
		if err != nil || h.All != g.All || len(h.Consoles) != len(g.Consoles) || h.NoPTY != g.NoPTY {
			t.Fatalf("%q: round trip %+v -> %+v (%v)", s, g, h, err)
		}
	})
}

// The escape filter: input without the lead passes unchanged; every byte
// typed comes out once, as data or as part of an escape (lead, second,
// command: three bytes), except a lead or lead+second still held at the
// end.
func FuzzEscFilter(f *testing.F) {
	f.Add([]byte("plain text\r"))
	f.Add([]byte("\x05c.\x05x\x05\x05c?\x05cc"))
	f.Fuzz(func(t *testing.T, in []byte) {
		e := escFilter{lead: 0x05, second: 'c'}
		var out []byte
		cmds := 0
		for _, b := range in {
			send, _, isCmd := e.Feed(b)
			out = append(out, send...)
			if isCmd {
				cmds++
			}
		}
		held := e.st
		if len(out)+3*cmds+held != len(in) {
			t.Fatalf("%q: %d out, %d escapes, %d held", in, len(out), cmds, held)
		}
		if !strings.Contains(string(in), "\x05") && string(out) != string(in) {
			t.Fatalf("%q became %q", in, out)
		}
	})
}
