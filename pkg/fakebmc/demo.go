package fakebmc

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ghmicons/ghmicons/pkg/ipmi"
)

// DemoHost is a simulated machine for the demo: it prints a boot log that
// names the boot device, offers a login prompt and a small shell that echoes
// and answers a few commands, and can print a lot of text on demand. Power
// off silences it; power on, cycle and reset boot it again.
type DemoHost struct {
	// LineDelay paces the boot log; 0 means 40 ms per line.
	LineDelay time.Duration
}

// NewDemoHost returns the demo host.
func NewDemoHost() Host { return &DemoHost{} }

type demoState int

const (
	demoOff demoState = iota
	demoBooting
	demoLogin
	demoPassword
	demoShell
)

// demoRun is one running demo host.
type demoRun struct {
	h      *DemoHost
	line   *Line
	state  demoState
	buf    []byte
	user   string
	input  chan []byte
	power  chan PowerEvent
	done   <-chan struct{}
	booted time.Time
}

// Run implements Host.
func (h *DemoHost) Run(line *Line, done <-chan struct{}) {
	r := &demoRun{h: h, line: line, input: make(chan []byte, 64), power: make(chan PowerEvent, 16), done: done}
	line.Chassis().OnPower(func(e PowerEvent) {
		select {
		case r.power <- e:
		default:
		}
	})
	go func() {
		for {
			b := make([]byte, 1024)
			n, err := line.Read(b)
			if err != nil {
				return
			}
			select {
			case r.input <- b[:n]:
			case <-done:
				return
			}
		}
	}()
	if line.Chassis().PoweredOn() {
		r.boot(line.Chassis().NextBootDevice())
	}
	for {
		select {
		case <-done:
			return
		case e := <-r.power:
			r.powerEvent(e)
		case b := <-r.input:
			r.keys(b)
		case <-line.Breaks():
			if r.state != demoOff {
				r.say("\r\n[ 4242.000000] sysrq: HELP : loglevel(0-9) reboot(b) crash(c) show-all-locks(d)\r\n")
				r.prompt()
			}
		}
	}
}

func (r *demoRun) say(s string) { _, _ = r.line.Write([]byte(s)) }

func (r *demoRun) powerEvent(e PowerEvent) {
	switch e.Kind {
	case PowerOffEvent:
		r.state = demoOff
	case PowerOnEvent:
		r.boot(e.Boot)
	case DiagEvent:
		if r.state != demoOff {
			r.say("\r\n[  123.456789] Uhhuh. NMI received for unknown reason 3d on CPU 0.\r\n[  123.456790] Dazed and confused, but trying to continue\r\n")
		}
	}
}

// boot prints the boot log line by line; a power event interrupts it.
func (r *demoRun) boot(f ipmi.BootFlags) {
	r.state = demoBooting
	delay := r.h.LineDelay
	if delay <= 0 {
		delay = 40 * time.Millisecond
	}
	mode := "Legacy"
	if f.EFI {
		mode = "UEFI"
	}
	dev := map[ipmi.BootDevice]string{
		ipmi.BootPXE: "PXE: Intel(R) Boot Agent GE v1.5.88 (network)", ipmi.BootDisk: "Hard Disk 0: DEMO SSD 480GB",
		ipmi.BootSafe: "Hard Disk 0 (safe mode)", ipmi.BootDiag: "Diagnostic Partition", ipmi.BootCDROM: "CD/DVD: DEMO Virtual CDROM",
		ipmi.BootBIOS: "BIOS Setup", ipmi.BootNone: "Hard Disk 0: DEMO SSD 480GB",
	}[f.Device]
	if dev == "" {
		dev = f.Device.String()
	}
	lines := []string{
		"",
		"ghmicons demo BIOS v2.26 (simulated)  -  " + mode + " boot",
		"CPU: Demo Xeon(R) 2.40GHz, 8 cores   Memory: 32768 MB OK",
		"Press <DEL> for setup, <F12> for network boot",
		fmt.Sprintf("Boot device: %s (%s)", f.Device, dev),
	}
	switch f.Device {
	case ipmi.BootPXE:
		lines = append(lines, "PXE: DHCP.... got 192.0.2.50 from 192.0.2.1", "PXE: loading pxelinux.0 via TFTP ... done",
			"PXE boot menu: (1) install  (2) rescue  (3) local disk  -> local disk in 3s")
	case ipmi.BootBIOS:
		lines = append(lines, "Entering BIOS setup ... (simulated; continuing to the OS)")
	case ipmi.BootCDROM:
		lines = append(lines, "Booting from CD/DVD: Demo Linux installer ... no disc; falling back to disk")
	}
	lines = append(lines,
		"Loading Linux 6.12.0-demo ...",
		"[    0.000000] Linux version 6.12.0-demo (ghmicons@demo) #1 SMP",
		"[    0.000000] Command line: console=ttyS0,115200n8 root=/dev/sda1",
		"[    0.412000] Serial: 8250/16550 driver, 4 ports, IRQ sharing enabled",
		"[    0.413000] serial8250: ttyS0 at I/O 0x3f8 (irq = 4) is a 16550A",
		"[    1.020000] EXT4-fs (sda1): mounted filesystem with ordered data mode",
		"[    1.530000] systemd[1]: Reached target Multi-User System.",
		"",
		"Demo Linux 1.0 demo ttyS0",
		"",
	)
	for _, l := range lines {
		r.say(l + "\r\n")
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case e := <-r.power:
			t.Stop()
			r.powerEvent(e)
			return
		case <-r.done:
			t.Stop()
			return
		case <-r.input: // typed during boot: lost, as on a real machine
		}
	}
	r.booted = time.Now()
	r.state = demoLogin
	r.prompt()
}

func (r *demoRun) prompt() {
	switch r.state {
	case demoLogin:
		r.say("demo login: ")
	case demoPassword:
		r.say("Password: ")
	case demoShell:
		r.say(r.user + "@demo:~# ")
	}
}

// keys is the line discipline: echo (except passwords), backspace, Enter.
func (r *demoRun) keys(b []byte) {
	if r.state == demoOff || r.state == demoBooting {
		return
	}
	for _, c := range b {
		switch c {
		case '\r', '\n':
			r.say("\r\n")
			line := string(r.buf)
			r.buf = r.buf[:0]
			r.enter(line)
		case 0x7F, 0x08:
			if len(r.buf) > 0 {
				r.buf = r.buf[:len(r.buf)-1]
				if r.state != demoPassword {
					r.say("\b \b")
				}
			}
		case 0x03:
			r.buf = r.buf[:0]
			r.say("^C\r\n")
			r.prompt()
		default:
			if c >= 0x20 && len(r.buf) < 1024 {
				r.buf = append(r.buf, c)
				if r.state != demoPassword {
					r.say(string(c))
				}
			}
		}
	}
}

func (r *demoRun) enter(line string) {
	switch r.state {
	case demoLogin:
		if strings.TrimSpace(line) == "" {
			r.prompt()
			return
		}
		r.user = strings.TrimSpace(line)
		r.state = demoPassword
	case demoPassword:
		r.state = demoShell
		r.say("Welcome to Demo Linux. Type 'help' for commands.\r\n")
	case demoShell:
		r.command(strings.Fields(line))
	}
	r.prompt()
}

func (r *demoRun) command(w []string) {
	if len(w) == 0 {
		return
	}
	switch w[0] {
	case "help":
		r.say("commands: help, echo TEXT, uname, uptime, date, whoami, bootdev, flood [LINES], seq N, reboot, poweroff, exit\r\n")
	case "echo":
		r.say(strings.Join(w[1:], " ") + "\r\n")
	case "uname":
		r.say("Linux demo 6.12.0-demo #1 SMP x86_64 GNU/Linux\r\n")
	case "uptime":
		r.say(fmt.Sprintf("up %v, 1 user, load average: 0.00, 0.01, 0.05\r\n", time.Since(r.booted).Round(time.Second)))
	case "date":
		r.say(time.Now().UTC().Format(time.UnixDate) + "\r\n")
	case "whoami":
		r.say(r.user + "\r\n")
	case "bootdev":
		r.say(fmt.Sprintf("next boot: %s\r\n", r.line.Chassis().NextBootDevice()))
	case "seq", "flood":
		n := 1000
		if len(w) > 1 {
			if v, err := strconv.Atoi(w[1]); err == nil && v > 0 {
				n = min(v, 10_000_000)
			}
		}
		for i := 1; i <= n; i++ {
			if w[0] == "seq" {
				r.say(strconv.Itoa(i) + "\r\n")
			} else {
				r.say(fmt.Sprintf("%08d the quick brown fox jumps over the lazy dog 0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n", i))
			}
		}
	case "reboot":
		r.say("Rebooting.\r\n")
		r.boot(r.line.Chassis().NextBootDevice())
	case "poweroff":
		r.say("Power down.\r\n")
		_ = r.line.Chassis().Control(ipmi.PowerOff)
	case "exit", "logout":
		r.state = demoLogin
		r.say("\r\n")
	default:
		r.say("-sh: " + w[0] + ": command not found\r\n")
	}
}
