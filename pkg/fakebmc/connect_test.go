//go:build !windows

package fakebmc_test

import (
	"bufio"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ghmicons/ghmicons/pkg/fakebmc"
)

// chardevServer plays a VM's serial port served as QEMU serves one
// (-serial unix:PATH,server=on,wait=off): it listens at path, prints a
// boot banner to whoever connects and sends what it reads to got. stop
// ends it as the VM stopping does (the socket goes away).
type chardevServer struct {
	ln    net.Listener
	got   chan string
	conns chan net.Conn
}

func startChardev(t *testing.T, network, addr, banner string) *chardevServer {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	c := &chardevServer{ln: ln, got: make(chan string, 16), conns: make(chan net.Conn, 1)}
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		c.conns <- conn
		if _, err := conn.Write([]byte(banner)); err != nil {
			return
		}
		sc := bufio.NewScanner(conn)
		for sc.Scan() {
			c.got <- strings.TrimSpace(sc.Text())
		}
	}()
	return c
}

// stop closes the socket and the connection, as a VM that stops does.
func (c *chardevServer) stop(t *testing.T) {
	c.ln.Close()
	select {
	case conn := <-c.conns:
		conn.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("nobody connected to the VM")
	}
}

func waitState(t *testing.T, states <-chan bool, want bool) {
	t.Helper()
	select {
	case got := <-states:
		if got != want {
			t.Fatalf("host connected = %v, want %v", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("host never became connected = %v", want)
	}
}

// The host connects to the VM's chardev socket; output the VM printed
// before any console was attached is replayed when one activates; when
// the VM restarts (its socket closes and comes back) the host connects
// again and the console, still attached, sees the new boot and types
// into the new VM.
func TestConnectHostReconnects(t *testing.T) {
	t.Run("unix-connect", func(t *testing.T) { testConnectHost(t, "unix", filepath.Join(t.TempDir(), "vm.sock")) })
	t.Run("tcp-connect", func(t *testing.T) { testConnectHost(t, "tcp", "127.0.0.1:0") })
}

func testConnectHost(t *testing.T, network, addr string) {
	vm := startChardev(t, network, addr, "boot 1: firmware\r\n")
	addr = vm.ln.Addr().String() // the port chosen, for the restart
	states := make(chan bool, 16)
	host := &fakebmc.ConnectHost{Network: network, Addr: addr, RetryMin: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond,
		OnState: func(up bool) { states <- up }}
	_, sess := udpBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: host}})
	waitState(t, states, true)

	c := activateSOL(t, sess)
	_, at := c.waitRe(regexp.MustCompile(`boot 1: firmware`), 0, 10*time.Second)
	c.send("hello\r\n")
	if got := <-vm.got; got != "hello" {
		t.Fatalf("the VM read %q, want hello", got)
	}

	// The VM restarts: the connection and the socket go, the host sees
	// it and dials in vain until the VM listens again.
	vm.stop(t)
	waitState(t, states, false)
	vm2 := startChardev(t, network, addr, "boot 2: firmware\r\n")
	t.Cleanup(func() { vm2.stop(t) })
	waitState(t, states, true)
	c.waitRe(regexp.MustCompile(`boot 2: firmware`), at, 10*time.Second)
	c.send("again\r\n")
	if got := <-vm2.got; got != "again" {
		t.Fatalf("the restarted VM read %q, want again", got)
	}
}

// historyHost prints text at once and tells done.
type historyHost struct {
	text string
	done chan struct{}
}

func (h historyHost) Run(line *fakebmc.Line, stop <-chan struct{}) {
	_, _ = line.Write([]byte(h.text))
	close(h.done)
	<-stop
}

// Output while no console is attached is kept up to OutputBuffer bytes,
// the oldest dropped first, and replayed to the console that activates.
func TestHistoryReplayedOnActivation(t *testing.T) {
	h := historyHost{text: "0123456789abcdefghijklmnopqrstuvwxyz", done: make(chan struct{})}
	_, sess := udpBMC(t, fakebmc.Config{SOL: fakebmc.SOLConfig{Host: h, OutputBuffer: 16}})
	<-h.done
	c := activateSOL(t, sess)
	m, _ := c.waitRe(regexp.MustCompile(`^.*z`), 0, 10*time.Second)
	if m[0] != "klmnopqrstuvwxyz" {
		t.Fatalf("replayed %q, want the last 16 bytes klmnopqrstuvwxyz", m[0])
	}
}
