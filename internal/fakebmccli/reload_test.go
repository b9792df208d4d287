package fakebmccli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

func bmcText(name string, port int, extra string) string {
	return fmt.Sprintf("[[bmc]]\nname = %q\nlisten = \"127.0.0.1:%d\"\nserial = \"echo\"\n%s", name, port, extra)
}

// servedConfig serves the configuration in a temporary file until the test
// ends; write replaces the file, hup reloads it, and each reload's result
// arrives on applied.
type servedConfig struct {
	path    string
	hup     chan struct{}
	applied chan reloadResult
	rack    *fakebmc.Rack
}

func serveConfig(t *testing.T, text string) *servedConfig {
	t.Helper()
	c := &servedConfig{path: filepath.Join(t.TempDir(), "rack.toml"), hup: make(chan struct{}), applied: make(chan reloadResult)}
	c.write(t, text)
	env := configEnv{readFile: os.ReadFile, defaultPassword: "password"}
	load := func() ([]*bmcSpec, error) { return loadConfig(c.path, env) }
	specs, err := load()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *fakebmc.Rack, 1)
	done := make(chan error, 1)
	go func() {
		done <- serveRack(ctx, io.Discard, specs, rackOpts{named: true, source: c.path, reload: load, hup: c.hup,
			applied: c.applied, ready: func(r *fakebmc.Rack) { ready <- r }})
	}()
	select {
	case c.rack = <-ready:
	case err := <-done:
		t.Fatalf("serveRack: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serveRack: %v", err)
		}
	})
	return c
}

func (c *servedConfig) write(t *testing.T, text string) {
	t.Helper()
	if err := os.WriteFile(c.path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (c *servedConfig) reload(t *testing.T, text string) reloadResult {
	t.Helper()
	c.write(t, text)
	c.hup <- struct{}{}
	return <-c.applied
}

func dialRack(t *testing.T, c *servedConfig, name string) *ipmi.Session {
	t.Helper()
	m := c.rack.Get(name)
	if m == nil {
		t.Fatalf("no BMC %s in the rack", name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := ipmi.Dial(ctx, "udp", m.Addr(), ipmi.Config{Username: "admin", Password: []byte("password"),
		CipherSuites: []uint8{17}, Timeout: 300 * time.Millisecond, Retries: 2})
	if err != nil {
		t.Fatalf("dial %s: %v", name, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// A reload that adds C and removes B leaves A, and a session on it that
// is busy with requests all along, alone; a reload that changes A
// restarts it; a file that does not decode changes nothing.
func TestReloadUnderLoad(t *testing.T) {
	a, b, cc := bmcText("a", 32400, ""), bmcText("b", 32401, ""), bmcText("c", 32402, "")
	c := serveConfig(t, a+b)
	sa, sb := dialRack(t, c, "a"), dialRack(t, c, "b")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sb.ChassisControl(ctx, ipmi.PowerOff); err != nil {
		t.Fatal(err)
	}

	// Load on A: chassis status requests back to back, every one of
	// which must be answered.
	var ok, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := sa.ChassisStatus(ctx); err != nil {
				failed.Add(1)
				t.Errorf("A's session during the reloads: %v", err)
				return
			}
			ok.Add(1)
		}
	})
	res := c.reload(t, a+cc)
	if fmt.Sprint(res.added, res.removed, res.changed, res.kept) != "[c] [b] [] [a]" || res.err != nil || len(res.failed) > 0 {
		t.Fatalf("reload: %+v", res)
	}
	for range 5 { // and again, the same file: nothing to do
		if res := c.reload(t, a+cc); fmt.Sprint(res.kept) != "[a c]" {
			t.Fatalf("idle reload: %+v", res)
		}
	}
	if res := c.reload(t, a+cc+"bogus = 1\n"); res.err == nil || c.rack.Len() != 2 {
		t.Fatalf("a bad file: %+v, %d BMCs", res, c.rack.Len())
	}
	close(stop)
	wg.Wait()
	if failed.Load() > 0 || ok.Load() == 0 {
		t.Fatalf("A answered %d requests and failed %d across the reloads", ok.Load(), failed.Load())
	}
	if st, err := sa.ChassisStatus(ctx); err != nil || !st.PowerOn {
		t.Fatalf("A after the reloads: %+v, %v", st, err)
	}
	if st, err := dialRack(t, c, "c").ChassisStatus(ctx); err != nil || !st.PowerOn {
		t.Fatalf("C: %+v, %v", st, err)
	}
	if c.rack.Get("b") != nil {
		t.Fatal("B is still in the rack")
	}
	if _, err := sb.ChassisStatus(ctx); err == nil {
		t.Fatal("B's session still answered after B was removed")
	}
	// Changing A (a second user) restarts it: its session ends, a new
	// one works.
	res = c.reload(t, bmcText("a", 32400, "users = [{ name = \"admin\", password = \"password\" }, { name = \"x\", password = \"y\" }]\n")+cc)
	if fmt.Sprint(res.changed, res.kept) != "[a] [c]" {
		t.Fatalf("changing A: %+v", res)
	}
	if _, err := sa.ChassisStatus(ctx); err == nil {
		t.Fatal("A's old session outlived A's restart")
	}
	if _, err := dialRack(t, c, "a").ChassisStatus(ctx); err != nil {
		t.Fatal(err)
	}
}
