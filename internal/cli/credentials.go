package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// sessionConfig builds the session configuration from the flags (checked by
// validate) and reads the secrets: the password from -P, -E, -f or a
// prompt; K_g from -k, -y, -K, -Y or --kg-file. A signal while a prompt
// waits (ctx) ends it with the terminal restored.
func (o *options) sessionConfig(ctx context.Context, env func(string) (string, bool), stdin *os.File, stderr io.Writer) (ipmi.Config, error) {
	cfg := ipmi.Config{Username: o.user, Timeout: o.timeout, Retries: o.retries, AllowNoAuth: o.allowSuite0,
		UsernamePrivilegeLookup: o.usernameLookup, Privilege: o.priv}
	if o.retries == 0 {
		cfg.Retries = -1 // ipmi.Config: 0 means the default
	}
	if o.fs.Changed("cipher-suite") {
		cfg.CipherSuites = []uint8{uint8(o.suite)}
	}
	if o.kgPrompt && !isTerminal(stdin) {
		return cfg, usagef("-Y prompts for K_g on a terminal, and standard input is not one: use -K (IPMI_KGKEY) or --kg-file")
	}
	pw, err := o.readPassword(ctx, env, stdin, stderr)
	if err != nil {
		return cfg, err
	}
	if len(pw) > maxSecret {
		return cfg, usagef("the password is %d bytes, longer than IPMI's %d", len(pw), maxSecret)
	}
	cfg.Password = pw
	if cfg.Kg, err = o.readKg(ctx, env, stdin, stderr); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func (o *options) readPassword(ctx context.Context, env func(string) (string, bool), stdin *os.File, stderr io.Writer) ([]byte, error) {
	switch {
	case o.fs.Changed("password"):
		fmt.Fprintln(stderr, "ghmicons: warning: a password given with -P can be seen by other users; use -E or -f")
		return []byte(o.password), nil
	case o.envPass:
		for _, k := range []string{"IPMI_PASSWORD", "IPMITOOL_PASSWORD"} {
			if v, ok := env(k); ok {
				return []byte(v), nil
			}
		}
		return nil, usagef("-E: neither IPMI_PASSWORD nor IPMITOOL_PASSWORD is set")
	case o.passFile != "":
		line, err := firstLine(o.passFile)
		if err != nil {
			return nil, usagef("-f: %v", err)
		}
		return []byte(line), nil
	}
	if isTerminal(stdin) {
		pw, err := readSecret(ctx, stdin, stderr, "Password: ")
		if err != nil {
			if se := signalCause(ctx); se != nil {
				return nil, se
			}
			return nil, fmt.Errorf("reading the password: %w", err)
		}
		return pw, nil
	}
	// No password source and nobody to ask: an empty password (null
	// passwords exist on some BMCs).
	return nil, nil
}

// readKg returns K_g, or nil when none is given (the BMC then uses the
// user's password as K_g: IPMI v2.0 §13.31).
func (o *options) readKg(ctx context.Context, env func(string) (string, bool), stdin *os.File, stderr io.Writer) ([]byte, error) {
	switch {
	case o.fs.Changed("kg"):
		fmt.Fprintln(stderr, "ghmicons: warning: a K_g given with -k can be seen by other users; use -K, -Y or --kg-file")
		return []byte(o.kg), nil
	case o.fs.Changed("kg-hex"):
		fmt.Fprintln(stderr, "ghmicons: warning: a K_g given with -y can be seen by other users; use -K, -Y or --kg-file")
		return ipmi.DecodeKgHex(o.kgHex)
	case o.kgEnv:
		v, ok := env("IPMI_KGKEY")
		if !ok {
			return nil, usagef("-K: IPMI_KGKEY is not set")
		}
		return parseKg("-K (IPMI_KGKEY)", v)
	case o.kgPrompt:
		line, err := readSecret(ctx, stdin, stderr, "K_g: ")
		if err != nil {
			if se := signalCause(ctx); se != nil {
				return nil, se
			}
			return nil, fmt.Errorf("reading K_g: %w", err)
		}
		return parseKg("-Y", string(line))
	case o.fs.Changed("kg-file"):
		line, err := firstLine(o.kgFile)
		if err != nil {
			return nil, usagef("--kg-file: %v", err)
		}
		return parseKg("--kg-file", line)
	}
	return nil, nil
}

// parseKg reads K_g from -K, -Y or --kg-file (ipmi.ParseKg), naming the source
// in the usage error.
func parseKg(src, v string) ([]byte, error) {
	b, err := ipmi.ParseKg(v)
	if err != nil {
		return nil, usagef("%s: %v", src, err)
	}
	return b, nil
}
