#!/usr/bin/python3
"""Benchmark: ghmicons against ipmitool, FreeIPMI ipmiconsole and pyghmi, on
the same machine, against the same BMCs, in the same run.

    scripts/bench/run.sh                 # the whole benchmark (see BENCHMARKS.md)
    BENCH_QUICK=1 scripts/bench/run.sh   # a short smoke run

run.sh builds ghmicons, fakebmc and the impairment proxy and calls this
program, which needs only the Python 3 standard library (Debian's
/usr/bin/python3, which also has pyghmi).

BMCs: OpenIPMI's ipmi_sim (scripts/ipmisim/start.sh; its serial side is a TCP
connection to a host played by this program) and our simulated BMC, fakebmc
(--serial tcp:..., to which this program connects as the host). The host
echoes everything typed, emits ticks while a client is connecting and
injects known text on demand (unpaced, or paced like a 9600 bps line).

Every client session gets a freshly started BMC, so no client inherits
another's state (ipmi_sim keeps SOL sequence numbers and retransmission
timers across sessions, docs/bmc-quirks.md).

Each session is measured from outside: output bytes are read from the
client's stdout (a pipe for ghmicons and the pyghmi script, the master side
of a pseudo-terminal for ipmitool and ipmiconsole, which need a terminal),
keystrokes are written to its stdin, CPU time comes from /proc, peak RSS from
wait4().

Environment knobs (defaults, BENCH_QUICK=1 values in brackets):
  BENCH_REPS=5 [2]          sessions per client for setup/keystrokes/throughput
  BENCH_KEYS=50 [20]        keystrokes per session
  BENCH_IDLE_SECS=60 [10]   idle window for the CPU figure
  BENCH_IDLE_REPS=2 [1]     idle sessions per client
  BENCH_LOSS_REPS=3 [1]     sessions per client and loss rate
  BENCH_LOSS_BYTES=32768 [16384]  text sent through the lossy proxy
  BENCH_LOSS_RATES=0.05,0.2 datagram loss probabilities (each way)
  BENCH_LOSS_TIMEOUT=120 [60]     bound on one lossy transfer (s)
  BENCH_PACED_BYTES=8192 [2048]   text for the paced (9600 bps) ipmi_sim variant
  BENCH_PACED_BPS=9600
  BENCH_SMALL=65536  BENCH_LARGE=1048576   throughput sizes
  BENCH_BMCS=ipmisim,fakebmc   BENCH_CLIENTS=ghmicons,ipmitool,ipmiconsole,pyghmi
  BENCH_SEED=1              seed for the known text and the proxy
  BENCH_OUT=DIR             where results go (default scripts/bench/results)
  BENCH_BIN=DIR             directory with ghmicons, fakebmc, impairproxy (run.sh sets it)
  BENCH_LOAD_NOTE=TEXT      recorded with the machine description
"""

import fcntl
import json
import os
import platform
import random
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import termios
import threading
import time
import tty
import difflib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
IPMISIM = os.path.join(ROOT, "scripts", "ipmisim")
PY = "/usr/bin/python3"

# Ports. ipmitool refuses a SOL port in the Activate Payload answer other
# than the one it uses or that number byte-swapped. ipmiconsole maps an
# answer of 28418 (623 byte-swapped) to 623; when it talks to a port other
# than 623 it refuses any answer but that port, and on 623 it moves to the
# port answered unless told otherwise. A relay in front of a BMC that reports
# its own port therefore works for every client only if the relay is on 623
# and the BMC on 28418; and ipmiconsole cannot talk to a BMC on 28418
# directly. So the lossy runs use the BMC on 28418 behind the proxy on 623,
# and the direct runs the same BMC program on another free port.
LOSSY_BMC_PORT = 28418   # 0x6f02
PROXY_PORT = 623         # 0x026f

TICK = b"#"
QUIET = 0.3        # output is "quiet" after this long without a byte


def env_int(name, default, quick):
    v = os.environ.get(name)
    if v:
        return int(v)
    return quick if QUICKMODE else default


def env_float(name, default, quick):
    v = os.environ.get(name)
    if v:
        return float(v)
    return quick if QUICKMODE else default


QUICKMODE = os.environ.get("BENCH_QUICK", "0") not in ("", "0")
CFG = {
    "quick": QUICKMODE,
    "reps": env_int("BENCH_REPS", 5, 2),
    "keys": env_int("BENCH_KEYS", 50, 20),
    "idle_secs": env_float("BENCH_IDLE_SECS", 60, 10),
    "idle_reps": env_int("BENCH_IDLE_REPS", 2, 1),
    "loss_reps": env_int("BENCH_LOSS_REPS", 3, 1),
    "loss_bytes": env_int("BENCH_LOSS_BYTES", 32768, 16384),
    "loss_rates": [float(x) for x in os.environ.get("BENCH_LOSS_RATES", "0.05,0.2").split(",") if x],
    "loss_timeout": env_float("BENCH_LOSS_TIMEOUT", 120, 60),
    "paced_bytes": env_int("BENCH_PACED_BYTES", 8192, 2048),
    "paced_bps": env_int("BENCH_PACED_BPS", 9600, 9600),
    "small": env_int("BENCH_SMALL", 65536, 65536),
    "large": env_int("BENCH_LARGE", 1048576, 1048576),
    "bmcs": [x for x in os.environ.get("BENCH_BMCS", "ipmisim,fakebmc").split(",") if x],
    "clients": [x for x in os.environ.get("BENCH_CLIENTS", "ghmicons,ipmitool,ipmiconsole,pyghmi").split(",") if x],
    "seed": env_int("BENCH_SEED", 1, 1),
}
DIRECT_PORT = 0  # chosen in main()
OUT = os.environ.get("BENCH_OUT") or os.path.join(HERE, "results")
BIN = os.environ.get("BENCH_BIN", "")
USER, PASSWORD = "admin", "password"
ALL_CLIENTS = ["ghmicons", "ipmitool", "ipmiconsole", "pyghmi"]
PEERS = ["ipmitool", "ipmiconsole", "pyghmi"]


class BenchError(Exception):
    """Something the benchmark needs does not work: fail loudly."""


def log(msg):
    sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def now():
    return time.monotonic()


# ---------------------------------------------------------------- processes

STARTED = []  # every process we started, for the final cleanup


def kill_proc(p, grace=3.0):
    """Ends p (a Popen we started): SIGTERM to it (and its process group if
    it leads one), then SIGKILL after grace seconds."""
    if p is None or p.returncode is not None:
        return
    try:
        p.terminate()
    except ProcessLookupError:
        return
    try:
        p.wait(grace)
    except subprocess.TimeoutExpired:
        try:
            p.kill()
        except ProcessLookupError:
            pass
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass


def cleanup_all():
    for p in reversed(STARTED):
        kill_proc(p, 2.0)


def free_udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_tcp_port():
    """A free TCP port on 127.0.0.1 in 20000-32767 (below the ephemeral range)."""
    for _ in range(500):
        p = random.randint(20000, 32767)
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
            return p
        except OSError:
            continue
        finally:
            s.close()
    raise BenchError("no free TCP port")


def wait_until(cond, timeout, step=0.02):
    end = now() + timeout
    while now() < end:
        if cond():
            return True
        time.sleep(step)
    return cond()


def cpu_seconds(pid):
    """CPU time of pid (all its threads), in seconds: the sum of the
    threads' schedstat run times (nanoseconds), or utime+stime from
    /proc/PID/stat (clock ticks) when schedstat is missing."""
    total = 0
    try:
        for t in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                total += int(f.read().split()[0])
        return total / 1e9
    except (OSError, ValueError, IndexError):
        pass
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------- host

class Host:
    """The machine behind the BMC's serial port.

    mode "listen": ipmi_sim connects out to us (a new connection replaces the
    old one, as after an ipmi_sim restart). mode "connect": we connect to
    fakebmc's serial listener. Everything received is echoed at once. ticks()
    sends TICK every 2 ms until stopped; send() injects bytes in a thread,
    optionally paced at a bit rate (10 bits per byte, like 8N1).
    """

    def __init__(self, mode, port):
        self.mode, self.port = mode, port
        self.lock = threading.Lock()
        self.wlock = threading.Lock()
        self.conn = None
        self.conns = 0
        self.rx = 0
        self.last_rx_t = 0.0
        self.stop = threading.Event()
        self.tick_on = threading.Event()
        self.tx_thread = None
        self.tx_cancel = threading.Event()
        self.tx_start = self.tx_end = 0.0
        self.tx_sent = 0
        self.lsock = None
        if mode == "listen":
            self.lsock = socket.socket()
            self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.lsock.bind(("127.0.0.1", port))
            self.lsock.listen(4)
            threading.Thread(target=self._accept_loop, daemon=True).start()
        threading.Thread(target=self._tick_loop, daemon=True).start()

    def _accept_loop(self):
        while not self.stop.is_set():
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            self._adopt(c)

    def _adopt(self, c):
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.lock:
            old, self.conn = self.conn, c
            self.conns += 1
        if old is not None:
            try:
                old.close()
            except OSError:
                pass
        threading.Thread(target=self._reader, args=(c,), daemon=True).start()

    def connect(self, timeout=10.0):
        """mode connect: (re)connect to the BMC's serial listener."""
        end = now() + timeout
        while True:
            try:
                c = socket.create_connection(("127.0.0.1", self.port), timeout=2)
                c.settimeout(None)
                self._adopt(c)
                return
            except OSError:
                if now() > end:
                    raise BenchError("cannot connect to the BMC's serial port 127.0.0.1:%d" % self.port)
                time.sleep(0.05)

    def _reader(self, c):
        while True:
            try:
                d = c.recv(65536)
            except OSError:
                d = b""
            if not d:
                break
            with self.lock:
                self.rx += len(d)
                self.last_rx_t = now()
                current = self.conn is c
            if current:
                self._write(c, d, None)
        with self.lock:
            if self.conn is c:
                self.conn = None

    def _write(self, c, data, cancel):
        """Writes data to c; gives up when cancel is set or c fails."""
        view = memoryview(data)
        while view:
            if cancel is not None and cancel.is_set():
                return False
            with self.wlock:
                try:
                    r, w, _ = select.select([], [c], [], 0.2)
                    if not w:
                        continue
                    n = c.send(view[:16384], socket.MSG_DONTWAIT)
                except BlockingIOError:
                    continue
                except OSError:
                    return False
            view = view[n:]
        return True

    def connected(self):
        with self.lock:
            return self.conn is not None

    def _tick_loop(self):
        while not self.stop.is_set():
            if not self.tick_on.wait(0.2):
                continue
            with self.lock:
                c = self.conn
            if c is not None:
                try:
                    with self.wlock:
                        c.send(TICK, socket.MSG_DONTWAIT)
                except OSError:
                    pass
            time.sleep(0.002)

    def ticks(self, on):
        if on:
            self.tick_on.set()
        else:
            self.tick_on.clear()

    def send(self, data, bps=0):
        """Starts sending data (a thread); returns the start time."""
        self.cancel_send()
        self.tx_cancel = threading.Event()
        cancel = self.tx_cancel
        self.tx_sent = 0
        self.tx_end = 0.0

        def run():
            with self.lock:
                c = self.conn
            if c is None:
                return
            if not bps:
                self._write(c, data, cancel)
                self.tx_sent = len(data)
            else:
                rate = bps / 10.0  # bytes per second, 8N1
                t0 = now()
                sent = 0
                while sent < len(data) and not cancel.is_set():
                    due = min(len(data), int((now() - t0) * rate) + 1)
                    if due > sent:
                        if not self._write(c, data[sent:due], cancel):
                            break
                        sent = due
                        self.tx_sent = sent
                    time.sleep(0.005)
            self.tx_end = now()

        self.tx_start = now()
        self.tx_thread = threading.Thread(target=run, daemon=True)
        self.tx_thread.start()
        return self.tx_start

    def cancel_send(self):
        if self.tx_thread is not None:
            self.tx_cancel.set()
            self.tx_thread.join(5)
            self.tx_thread = None

    def close(self):
        self.stop.set()
        self.tick_on.clear()
        self.cancel_send()
        if self.lsock is not None:
            self.lsock.close()
        with self.lock:
            if self.conn is not None:
                self.conn.close()
                self.conn = None


# ---------------------------------------------------------------------- BMCs

class IpmiSim:
    name = "ipmisim"
    title = "OpenIPMI ipmi_sim"

    def __init__(self, work):
        self.state = os.path.join(work, "ipmisim")
        self.serial_port = free_tcp_port()
        self.host = Host("listen", self.serial_port)
        self.running = False
        self.restarts = 0

    def start(self, port):
        if self.running:
            self.stop()
        self.port = port
        conns = self.host.conns
        env = dict(os.environ, IPMISIM_TIMEOUT="15")
        r = subprocess.run([os.path.join(IPMISIM, "start.sh"), str(port), str(self.serial_port), self.state],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise BenchError("ipmi_sim did not start: %s" % r.stdout.strip())
        self.running = True
        self.restarts += 1
        if not wait_until(lambda: self.host.conns > conns and self.host.connected(), 15):
            raise BenchError("ipmi_sim did not connect to the serial listener 127.0.0.1:%d" % self.serial_port)

    def stop(self):
        if self.running:
            subprocess.run([os.path.join(IPMISIM, "stop.sh"), self.state],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.running = False

    def alive(self):
        try:
            with open(os.path.join(self.state, "ipmi_sim.pid")) as f:
                pid = int(f.read())
            with open("/proc/%d/stat" % pid) as f:
                return f.read().rsplit(")", 1)[1].split()[0] != "Z"
        except (OSError, ValueError):
            return False

    def close(self):
        self.stop()
        self.host.close()


class FakeBMC:
    name = "fakebmc"
    title = "fakebmc (ours)"

    def __init__(self, work):
        self.work = work
        self.serial_port = free_tcp_port()
        self.host = Host("connect", self.serial_port)
        self.proc = None
        self.restarts = 0

    def start(self, port):
        self.stop()
        self.port = port
        logf = open(os.path.join(self.work, "fakebmc.log"), "ab")
        self.proc = subprocess.Popen(
            [os.path.join(BIN, "fakebmc"), "--listen", "127.0.0.1:%d" % port, "--user", USER,
             "--password", PASSWORD, "--serial", "tcp:127.0.0.1:%d" % self.serial_port, "-v"],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
        logf.close()
        STARTED.append(self.proc)
        self.restarts += 1
        # Ready when the RMCP+ port is taken and the serial listener answers.
        if not wait_until(lambda: not free_udp(port) or self.proc.poll() is not None, 10):
            raise BenchError("fakebmc did not bind 127.0.0.1:%d" % port)
        if self.proc.poll() is not None:
            raise BenchError("fakebmc exited at start (see %s/fakebmc.log)" % self.work)
        self.host.connect()

    def stop(self):
        if self.proc is not None:
            kill_proc(self.proc)
            self.proc = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def close(self):
        self.stop()
        self.host.close()


class Proxy:
    """scripts/bench/impairproxy on 127.0.0.1:623 in front of the BMC."""

    def __init__(self, work, drop, seed, bound):
        self.stats_file = os.path.join(work, "proxy-%d.json" % seed)
        ready = os.path.join(work, "proxy.ready")
        if os.path.exists(ready):
            os.unlink(ready)
        if not wait_until(lambda: free_udp(PROXY_PORT), 5):
            raise BenchError("UDP 127.0.0.1:%d is in use; the proxy needs it" % PROXY_PORT)
        self.err = open(os.path.join(work, "proxy.log"), "ab")
        self.proc = subprocess.Popen(
            [os.path.join(BIN, "impairproxy"), "--listen", "127.0.0.1:%d" % PROXY_PORT,
             "--upstream", "127.0.0.1:%d" % LOSSY_BMC_PORT, "--drop", str(drop), "--seed", str(seed),
             "--max-duration", "%ds" % int(bound), "--ready-file", ready, "--stats", self.stats_file],
            stdin=subprocess.DEVNULL, stdout=self.err, stderr=self.err)
        STARTED.append(self.proc)
        if not wait_until(lambda: os.path.exists(ready) or self.proc.poll() is not None, 5) or \
                self.proc.poll() is not None:
            raise BenchError("impairproxy did not start (see %s/proxy.log)" % work)

    def close(self):
        kill_proc(self.proc)
        self.err.close()
        try:
            with open(self.stats_file) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}


# ------------------------------------------------------------------ clients

def client_argv(client, bmc, port):
    if client == "ghmicons":
        return [os.path.join(BIN, "ghmicons"), "-H", "127.0.0.1:%d" % port, "-U", USER, "-E", "-C", "3"]
    if client == "ipmitool":
        return ["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", str(port), "-U", USER, "-E",
                "-C", "3", "sol", "activate"]
    if client == "ipmiconsole":
        argv = ["ipmiconsole", "-h", "127.0.0.1:%d" % port, "-u", USER, "-p", PASSWORD, "-l", "ADMIN", "-I", "3"]
        if bmc.name == "ipmisim":
            argv += ["-W", "opensesspriv,solchannelsupport,solpayloadsize"]
        return argv
    if client == "pyghmi":
        return [PY, os.path.join(HERE, "pyghmi_console.py"), "--suite", "3", "127.0.0.1", str(port), USER]
    raise ValueError(client)


USES_PTY = {"ghmicons": False, "ipmitool": True, "ipmiconsole": True, "pyghmi": False}
QUIT_KEYS = {"ipmitool": b"\r~.", "ipmiconsole": b"&."}


class Session:
    """One client process attached to the current BMC."""

    def __init__(self, client, bmc, port, work, tag):
        self.client, self.bmc = client, bmc
        self.out = bytearray()
        self.last_rx = 0.0
        self.rusage = None
        self.status = None
        self.errpath = os.path.join(work, "%s.err" % tag)
        errf = open(self.errpath, "wb")
        env = dict(os.environ, IPMI_PASSWORD=PASSWORD, IPMITOOL_PASSWORD=PASSWORD)
        argv = client_argv(client, bmc, port)
        self.t_start = now()
        if USES_PTY[client]:
            master, slave = os.openpty()
            tty.setraw(slave)
            attrs = termios.tcgetattr(slave)
            attrs[3] &= ~termios.ECHO
            termios.tcsetattr(slave, termios.TCSANOW, attrs)
            fcntl.ioctl(slave, termios.TIOCSWINSZ, b"\x18\x00\x50\x00\x00\x00\x00\x00")

            def ctty():
                fcntl.ioctl(0, termios.TIOCSCTTY, 0)

            self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=errf, env=env,
                                         start_new_session=True, preexec_fn=ctty, close_fds=True)
            os.close(slave)
            self.rfd = self.wfd = master
        else:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errf,
                                         env=env, start_new_session=True, close_fds=True)
            self.rfd = self.proc.stdout.fileno()
            self.wfd = self.proc.stdin.fileno()
        errf.close()
        STARTED.append(self.proc)
        os.set_blocking(self.rfd, False)
        self.eof = False

    # output -------------------------------------------------------------
    def pump(self, timeout):
        """Reads what is available within timeout; returns bytes read."""
        if self.eof:
            time.sleep(min(timeout, 0.05))
            return 0
        r, _, _ = select.select([self.rfd], [], [], max(0.0, timeout))
        if not r:
            return 0
        try:
            d = os.read(self.rfd, 1 << 20)
        except BlockingIOError:
            return 0
        except OSError:  # EIO: the pty's other side is gone
            d = b""
        if not d:
            self.eof = True
            return 0
        self.out += d
        self.last_rx = now()
        return len(d)

    def wait_for(self, pred, timeout, stall=None):
        """Pumps until pred() is true; False on timeout, exit, or (with
        stall) when no byte arrived for stall seconds."""
        end = now() + timeout
        last = now()
        while True:
            if pred():
                return True
            t = now()
            if t >= end or self.eof:
                return pred()
            if stall is not None and t - max(last, self.last_rx) > stall:
                return pred()
            if self.pump(min(0.05, end - t)):
                last = now()

    def wait_quiet(self, quiet=QUIET, timeout=10):
        end = now() + timeout
        t0 = now()
        while now() < end and not self.eof:
            self.pump(0.02)
            if now() - max(self.last_rx, t0) >= quiet:
                return True
        return False

    def type(self, data):
        os.write(self.wfd, data)

    def alive(self):
        return self.proc.poll() is None and self.rusage is None

    def peak_rss_kib(self):
        """VmHWM, the peak resident set of the client's own address space.
        (wait4's ru_maxrss is no good here: Linux carries the parent's peak
        over the exec into the child's figure.)"""
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except (OSError, ValueError, IndexError):
            pass
        return None

    # exit ---------------------------------------------------------------
    def quit(self, timeout=10.0):
        """Quits the way a user would (escape sequence, or end of input);
        SIGTERM/SIGKILL if that does not work. Returns True if graceful."""
        graceful = True
        try:
            if USES_PTY[self.client]:
                self.type(QUIT_KEYS[self.client])
            else:
                self.proc.stdin.close()
        except OSError:
            pass
        end = now() + timeout
        while now() < end and self._reap(False) is None:
            self.pump(0.05)
        if self.rusage is None:
            graceful = False
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            end = now() + 3
            while now() < end and self._reap(False) is None:
                self.pump(0.05)
            if self.rusage is None:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self._reap(True)
        self._close_fds()
        return graceful

    def _reap(self, block):
        if self.rusage is not None:
            return self.status
        try:
            pid, status, ru = os.wait4(self.proc.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            self.rusage = {}
            self.status = self.proc.returncode
            return self.status
        if pid == 0:
            return None
        self.rusage = {"maxrss_kib": ru.ru_maxrss, "utime": ru.ru_utime, "stime": ru.ru_stime}
        self.status = os.waitstatus_to_exitcode(status)
        self.proc.returncode = self.status
        return self.status

    def _close_fds(self):
        for f in (self.proc.stdin, self.proc.stdout):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass
        if USES_PTY[self.client]:
            try:
                os.close(self.rfd)
            except OSError:
                pass

    def last_words(self, n=300):
        """The client's error: its stderr, or what it printed last (ipmitool
        and ipmiconsole report errors on their terminal)."""
        if self.alive():
            self.pump(0.2)
        out = bytes(self.out[-n:]).decode("ascii", "replace").strip().replace("\r", "").replace("\n", " | ")
        return " | ".join(x for x in (self.stderr_tail(n), out, "exit status %s" % self.proc.poll()) if x)

    def stderr_tail(self, n=300):
        try:
            with open(self.errpath, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace").strip().replace("\n", " | ")
        except OSError:
            return ""


# -------------------------------------------------------------- known text

ALPHABET = bytes(c for c in range(0x21, 0x7f) if c not in b"#~&")


def known_text(size, seed, nonce):
    """size bytes of printable numbered lines between BEGIN/END marker lines."""
    r = random.Random(seed * 1000003 + size)
    head = b"=====BEGIN %s=====\n" % nonce
    tail = b"=====END %s=====\n" % nonce
    parts = [head]
    n = len(head) + len(tail)
    i = 0
    while True:
        i += 1
        w = r.randrange(20, 100)
        line = b"%07d " % i + bytes(r.choice(ALPHABET) for _ in range(w)) + b"\n"
        if n + len(line) > size:
            break
        parts.append(line)
        n += len(line)
    fill = size - n
    if fill > 0:
        parts.append(b"-" * (fill - 1) + b"\n" if fill > 1 else b"\n")
    parts.append(tail)
    data = b"".join(parts)
    assert len(data) == size, (len(data), size)
    return data, tail


def compare(expected, got):
    """Compares received text with the expected text: returns (intact,
    lost_bytes, extra_bytes). Lost: expected bytes missing; extra: bytes
    received beyond the expected ones (duplicates or garbage). Aligned line
    by line, so a missing or repeated run of bytes counts once, exactly."""
    if got == expected:
        return True, 0, 0
    a = expected.splitlines(keepends=True)
    b = got.splitlines(keepends=True)
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    lost = extra = 0
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            continue
        ea = sum(len(x) for x in a[i1:i2])
        gb = sum(len(x) for x in b[j1:j2])
        if ea > gb:
            lost += ea - gb
        else:
            extra += gb - ea
    return False, lost, extra


# ------------------------------------------------------------------ measure

def quantile(xs, q):
    xs = sorted(xs)
    if not xs:
        return None
    k = (len(xs) - 1) * q
    f = int(k)
    c = min(f + 1, len(xs) - 1)
    return xs[f] + (xs[c] - xs[f]) * (k - f)


def summary(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs)}


class Bench:
    def __init__(self, work):
        self.work = work
        self.runs = []        # every session's raw record
        self.events = []      # restarts, wedges, failures
        self.failures = []    # a peer that could not run at all
        self.nonce = 0

    def event(self, msg):
        log(msg)
        self.events.append(msg)

    def next_nonce(self):
        self.nonce += 1
        return b"%d-%06d" % (os.getpid(), self.nonce)

    def open_session(self, client, bmc, port, tag, setup_timeout=30):
        """Starts client with the host ticking; returns (session, setup
        seconds or None)."""
        bmc.host.ticks(True)
        s = Session(client, bmc, port, self.work, tag)
        ok = s.wait_for(lambda: TICK in s.out, setup_timeout)
        # wait_for stops at the read that brought the first tick
        setup = (s.last_rx - s.t_start) if ok else None
        bmc.host.ticks(False)
        return s, setup

    def transfer(self, s, bmc, size, timeout, bps=0, stall=10.0):
        """Host sends size bytes of known text; returns a record."""
        s.wait_quiet()
        text, tail = known_text(size, CFG["seed"], self.next_nonce())
        mark = len(s.out)
        scan = [mark]

        def arrived():
            # search only what is new since the last look
            found = s.out.find(tail, max(mark, scan[0] - len(tail)))
            scan[0] = len(s.out)
            return found >= 0

        t0 = bmc.host.send(text, bps)
        done = s.wait_for(arrived, timeout, stall=stall)
        t1 = now()
        if done:
            t_end = s.last_rx
        else:
            t_end = s.last_rx if s.last_rx > t0 else t1
        # collect stragglers (duplicates after the end marker)
        s.wait_quiet(0.3, 2)
        bmc.host.cancel_send()
        got = bytes(s.out[mark:])
        # drop late ticks in front of the text
        got = got.lstrip(TICK)
        end = got.find(tail)
        body = got[:end + len(tail)] if end >= 0 else got
        trailing = len(got) - len(body)
        intact, lost, extra = compare(text, body)
        extra += trailing
        secs = t_end - t0
        rec = {"bytes": size, "complete": done, "intact": intact and trailing == 0, "lost": lost,
               "extra": extra, "seconds": secs, "rate": size / secs if done and secs > 0 else None,
               "received": len(got), "host_sent": bmc.host.tx_sent, "client_exited": not s.alive()}
        if not rec["intact"]:
            # what the client showed last (an error message, usually)
            rec["tail"] = bytes(s.out[-240:]).decode("ascii", "replace")
            if rec["client_exited"]:
                self.event("%s/%s: the client exited during a %d-byte transfer (status %s): %r" % (
                    bmc.name, s.client, size, s.status, rec["tail"][-120:]))
        return rec

    def keystrokes(self, s, n, host):
        """n keystrokes through the echoing host; round trip of each (s), and
        its two legs: key written → host has it, host has it → echo read
        (both legs include the BMC)."""
        rtts, legs, lost = [], [], 0
        letters = b"abcdefghijklmnopqrstuvwxyz"
        s.wait_quiet()
        # warm-up (not counted): the first packet of a session may pay for
        # lazily set up state on either side
        for i in range(3):
            k = letters[i:i + 1]
            mark = len(s.out)
            s.type(k)
            s.wait_for(lambda: s.out.find(k, mark) >= 0, 3)
            time.sleep(0.05)
        for i in range(n):
            k = letters[(i + 3) % 26:(i + 3) % 26 + 1]
            mark = len(s.out)
            t0 = now()
            s.type(k)
            if s.wait_for(lambda: s.out.find(k, mark) >= 0, 3):
                rtts.append(s.last_rx - t0)
                th = host.last_rx_t
                if t0 < th < s.last_rx:
                    legs.append((th - t0, s.last_rx - th))
            else:
                lost += 1
            time.sleep(0.03 + random.random() * 0.02)
        return rtts, legs, lost

    # ---------------------------------------------------------- phases
    def phase_main(self, bmc):
        """setup, keystrokes, 64 KiB, 1 MiB, peak RSS; one session per rep."""
        clients = CFG["clients"]
        for rep in range(CFG["reps"]):
            order = clients[rep % len(clients):] + clients[:rep % len(clients)]
            for c in order:
                bmc.start(DIRECT_PORT)
                tag = "%s-main-%s-%d" % (bmc.name, c, rep)
                rec = {"bmc": bmc.name, "phase": "main", "client": c, "rep": rep}
                s, setup = self.open_session(c, bmc, DIRECT_PORT, tag)
                rec["setup"] = setup
                if setup is None:
                    rec["error"] = "no console output within 30 s: %s" % s.last_words()
                    self.event("%s/%s rep %d: FAILED to attach: %s" % (bmc.name, c, rep, rec["error"]))
                    self.failures.append("%s/%s: %s" % (bmc.name, c, rec["error"]))
                    s.quit(3)
                    self.runs.append(rec)
                    continue
                rtts, legs, klost = self.keystrokes(s, CFG["keys"], bmc.host)
                rec["keys"] = {"n": len(rtts), "lost": klost,
                               "median": statistics.median(rtts) if rtts else None,
                               "p90": quantile(rtts, 0.9), "all": rtts,
                               "to_host_median": statistics.median([a for a, b in legs]) if legs else None,
                               "from_host_median": statistics.median([b for a, b in legs]) if legs else None}
                rec["small"] = self.transfer(s, bmc, CFG["small"], 60)
                rec["large"] = self.transfer(s, bmc, CFG["large"], 120)
                rec["maxrss_kib"] = s.peak_rss_kib()
                rec["graceful_exit"] = s.quit()
                rec["exit_status"] = s.status
                self.runs.append(rec)
                log("%s/%s rep %d: setup %.0f ms, keys %s ms (lost %d), 64K %s, 1M %s, rss %s KiB" % (
                    bmc.name, c, rep, setup * 1000,
                    fmt_ms(rec["keys"]["median"]), klost, fmt_xfer(rec["small"]), fmt_xfer(rec["large"]),
                    rec["maxrss_kib"]))

    def phase_idle(self, bmc):
        for rep in range(CFG["idle_reps"]):
            for c in CFG["clients"]:
                bmc.start(DIRECT_PORT)
                tag = "%s-idle-%s-%d" % (bmc.name, c, rep)
                rec = {"bmc": bmc.name, "phase": "idle", "client": c, "rep": rep}
                s, setup = self.open_session(c, bmc, DIRECT_PORT, tag)
                if setup is None:
                    rec["error"] = "no console output: %s" % s.last_words()
                    self.event("%s/%s idle rep %d: FAILED to attach" % (bmc.name, c, rep))
                    self.failures.append("%s/%s idle: %s" % (bmc.name, c, rec["error"]))
                    s.quit(3)
                    self.runs.append(rec)
                    continue
                s.wait_quiet(1.0, 5)
                c0, k0, t0 = cpu_seconds(s.proc.pid), cpu_ticks(s.proc.pid), now()
                end = t0 + CFG["idle_secs"]
                while now() < end and s.alive():
                    s.pump(min(0.5, max(0, end - now())))
                alive_proc = s.alive()
                if alive_proc:
                    c1, k1, t1 = cpu_seconds(s.proc.pid), cpu_ticks(s.proc.pid), now()
                    rec["cpu"] = c1 - c0
                    rec["cpu_ticks"] = k1 - k0
                    rec["window"] = t1 - t0
                # is the console still working after the idle time?
                probe = b"probe-%s\n" % self.next_nonce()
                mark = len(s.out)
                bmc.host.send(probe)
                rec["alive_after"] = alive_proc and s.wait_for(lambda: s.out.find(probe, mark) >= 0, 10)
                rec["maxrss_kib"] = s.peak_rss_kib()
                rec["graceful_exit"] = s.quit()
                if not rec["alive_after"]:
                    self.event("%s/%s idle rep %d: console not working after %.0f s idle (%s)" % (
                        bmc.name, c, rep, CFG["idle_secs"], s.stderr_tail(200)))
                self.runs.append(rec)
                log("%s/%s idle rep %d: cpu %s over %.0f s, alive after: %s" % (
                    bmc.name, c, rep, fmt_ms(rec.get("cpu")), CFG["idle_secs"], rec["alive_after"]))

    def phase_loss(self, bmc, paced):
        kind = "paced" if paced else "loss"
        size = CFG["paced_bytes"] if paced else CFG["loss_bytes"]
        bps = CFG["paced_bps"] if paced else 0
        bound = CFG["loss_timeout"] + (size * 10.0 / bps if bps else 0)
        for rate in CFG["loss_rates"]:
            for rep in range(CFG["loss_reps"]):
                seed = CFG["seed"] * 1000 + rep + int(rate * 100) * 10
                for c in CFG["clients"]:
                    tag = "%s-%s%g-%s-%d" % (bmc.name, kind, rate, c, rep)
                    rec = {"bmc": bmc.name, "phase": kind, "loss": rate, "client": c, "rep": rep, "seed": seed,
                           "attach_failures": []}
                    # A lost answer can make a client give up while attaching
                    # (ipmitool on "already active" after its own retried
                    # Activate Payload). A user would try again: so do we, up
                    # to 3 times, with another seed each time, and count it.
                    for attempt in range(3):
                        bmc.start(LOSSY_BMC_PORT)
                        proxy = Proxy(self.work, rate, seed + 100 * attempt, bound + 60)
                        s, setup = self.open_session(c, bmc, PROXY_PORT, "%s-a%d" % (tag, attempt), setup_timeout=40)
                        if setup is not None:
                            break
                        rec["attach_failures"].append(s.last_words(160))
                        s.quit(3)
                        proxy.close()
                    try:
                        rec["setup"] = setup
                        if setup is None:
                            rec["error"] = "no console output through the proxy in 3 attempts: %s" % rec["attach_failures"][-1]
                            rec["xfer"] = None
                        else:
                            rec["xfer"] = self.transfer(s, bmc, size, bound, bps=bps, stall=6.0)
                            rec["client_alive"] = s.alive()
                            rec["graceful_exit"] = s.quit()
                            rec["stderr"] = s.stderr_tail(200)
                    finally:
                        rec["proxy"] = proxy.close()
                    if bmc.name == "ipmisim":
                        rec["wedged"] = self.ipmisim_wedged(bmc, tag)
                        if rec["wedged"]:
                            self.event("ipmi_sim wedged after %s %g%% %s rep %d (its serial side no longer "
                                       "reaches a console); restarting it" % (kind, rate * 100, c, rep))
                    self.runs.append(rec)
                    x = rec.get("xfer") or {}
                    log("%s/%s %s %g%% rep %d: %s" % (bmc.name, c, kind, rate * 100, rep,
                                                     fmt_xfer(x) if x else rec.get("error")))

    def ipmisim_wedged(self, bmc, tag):
        """After a lossy run: does ipmi_sim still pass serial output to a
        console? Probed directly (no proxy) with a fresh ghmicons session,
        which takes the console over even if the lossy client left it
        active. Not delivered within 5 s = wedged."""
        if not bmc.alive():
            self.event("ipmi_sim died during %s" % tag)
            return True
        bmc.host.ticks(False)
        s = Session("ghmicons", bmc, bmc.port, self.work, tag + "-probe")
        probe = b"wedge-probe-%s\n" % self.next_nonce()
        mark = 0
        ok = False
        end = now() + 5
        while now() < end and not ok:
            bmc.host.send(probe)
            ok = s.wait_for(lambda: s.out.find(probe, mark) >= 0, 1.0)
        s.quit(3)
        bmc.host.cancel_send()
        return not ok


def fmt_ms(x):
    return "-" if x is None else "%.1f" % (x * 1000)


def fmt_xfer(x):
    if not x:
        return "-"
    r = x.get("rate")
    return "%s%s lost=%d extra=%d %.2fs" % (
        "%.0f KiB/s " % (r / 1024) if r else "", "intact" if x["intact"] else "NOT intact",
        x["lost"], x["extra"], x["seconds"])


# ------------------------------------------------------------- reporting

def versions():
    def run(cmd):
        try:
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=10)
            return r.stdout.strip().splitlines()[0] if r.stdout.strip() else ""
        except (OSError, subprocess.TimeoutExpired):
            return "?"

    def deb(pkg):
        return run(["dpkg-query", "-W", "-f=${Version}", pkg])

    return {
        "ghmicons": run([os.path.join(BIN, "ghmicons"), "--version"]),
        "ipmitool": run(["ipmitool", "-V"]),
        "ipmiconsole": "FreeIPMI " + deb("freeipmi-tools"),
        "pyghmi": "pyghmi " + deb("python3-pyghmi") + " on Python " + run([PY, "-c", "import platform;print(platform.python_version())"]),
        "ipmi_sim": "OpenIPMI " + deb("openipmi"),
        "go": run(["go", "version"]) if shutil.which("go") else run(["/usr/local/go/bin/go", "version"]),
    }


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            mem = "%.1f GiB" % (int(f.readline().split()[1]) / 1048576)
    except (OSError, ValueError, IndexError):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem, "kernel": platform.release(),
            "os": platform.platform(), "loadavg_start": os.getloadavg()}


def aggregate(bench):
    """Per BMC, per client: the figures (median/min/max over reps)."""
    res = {}
    for bmc in CFG["bmcs"]:
        res[bmc] = {}
        for c in CFG["clients"]:
            runs = [r for r in bench.runs if r["bmc"] == bmc and r["client"] == c]
            main = [r for r in runs if r["phase"] == "main" and r.get("setup") is not None]
            idle = [r for r in runs if r["phase"] == "idle" and r.get("cpu") is not None]
            f = {
                "sessions": len([r for r in runs if r["phase"] == "main"]),
                "attached": len(main),
                "setup": summary([r["setup"] for r in main]),
                "key_median": summary([r["keys"]["median"] for r in main]),
                "key_p90": summary([r["keys"]["p90"] for r in main]),
                "key_to_host": summary([r["keys"].get("to_host_median") for r in main]),
                "key_from_host": summary([r["keys"].get("from_host_median") for r in main]),
                "keys_lost": sum(r["keys"]["lost"] for r in main),
                "rss_kib": summary([r.get("maxrss_kib") for r in main]),
                "idle_cpu": summary([r["cpu"] for r in idle]),
                "idle_alive": "%d/%d" % (sum(1 for r in runs if r["phase"] == "idle" and r.get("alive_after")),
                                         len([r for r in runs if r["phase"] == "idle"])),
            }
            for size in ("small", "large"):
                xs = [r[size] for r in main]
                f[size] = {"rate": summary([x["rate"] for x in xs]),
                           "intact": "%d/%d" % (sum(1 for x in xs if x["intact"]), len(xs))}
            for kind in ("loss", "paced"):
                for rate in CFG["loss_rates"]:
                    rr = [r for r in runs if r["phase"] == kind and r["loss"] == rate]
                    if not rr:
                        continue
                    xs = [r.get("xfer") for r in rr]
                    ok = [x for x in xs if x]
                    f["%s_%g" % (kind, rate)] = {
                        "runs": len(rr),
                        "attached": len(ok),
                        "intact": sum(1 for x in ok if x["intact"]),
                        "complete": sum(1 for x in ok if x["complete"]),
                        "lost": summary([x["lost"] for x in ok]),
                        "extra": summary([x["extra"] for x in ok]),
                        "seconds": summary([x["seconds"] for x in ok if x["complete"]]),
                        "wedged": sum(1 for r in rr if r.get("wedged")),
                        "attach_retries": sum(len(r.get("attach_failures") or []) for r in rr),
                    }
            res[bmc][c] = f
    return res


def fmt_range(s, scale=1.0, digits=0, unit=""):
    if not s:
        return "–"
    fmt = "%%.%df" % digits
    if s["n"] == 1:
        return (fmt % (s["median"] * scale)) + unit
    return "%s%s (%s–%s)" % (fmt % (s["median"] * scale), unit, fmt % (s["min"] * scale), fmt % (s["max"] * scale))


def best_peer(agg, key, better, sub=None):
    """(best peer value, its name) for the figure, or (None, None)."""
    vals = []
    for p in PEERS:
        if p not in agg:
            continue
        f = agg[p].get(key)
        if sub:
            f = f and f.get(sub)
        if f and f.get("median") is not None:
            vals.append((f["median"], p))
    if not vals:
        return None, None
    return (min(vals) if better == "low" else max(vals))


def targets(agg_all):
    """The issue's targets, evaluated per BMC."""
    out = []
    for bmc, agg in agg_all.items():
        g = agg.get("ghmicons")
        if not g:
            continue

        def med(f):
            return f["median"] if f else None

        def add(name, ok, detail):
            out.append({"bmc": bmc, "target": name, "met": ok, "detail": detail})

        b, bp = best_peer(agg, "setup", "low")
        v = med(g["setup"])
        if v is not None and b:
            add("setup ≤ 0.5× fastest peer", v <= 0.5 * b, "%.0f ms vs %s %.0f ms (%.2f×)" % (v * 1e3, bp, b * 1e3, v / b))
        for size, label in (("small", "64 KiB"), ("large", "1 MiB")):
            b, bp = best_peer(agg, size, "high", "rate")
            v = med(g[size]["rate"])
            if v is not None and b:
                add("throughput %s ≥ 1.2× best peer" % label, v >= 1.2 * b,
                    "%.0f KiB/s vs %s %.0f KiB/s (%.2f×)" % (v / 1024, bp, b / 1024, v / b))
        b, bp = best_peer(agg, "key_median", "low")
        v = med(g["key_median"])
        if v is not None and b:
            add("keystroke round trip ≤ 0.7× best peer", v <= 0.7 * b,
                "median %.2f ms vs %s %.2f ms (%.2f×)" % (v * 1e3, bp, b * 1e3, v / b))
        b, bp = best_peer(agg, "idle_cpu", "low")
        v = med(g["idle_cpu"])
        if v is not None and b is not None:
            add("idle CPU ≤ best peer", v <= b, "%.1f ms vs %s %.1f ms per %.0f s" % (v * 1e3, bp, b * 1e3, CFG["idle_secs"]))
        v = med(g["rss_kib"])
        if v is not None:
            add("peak RSS ≤ 10 MB", v * 1024 <= 10e6, "%.1f MB (%.0f KiB)" % (v * 1024 / 1e6, v))
        for rate in CFG["loss_rates"]:
            k = "loss_%g" % rate
            if k not in g:
                continue
            lg = g[k]
            if bmc == "fakebmc" and rate >= 0.2:
                ok = lg["attached"] == lg["runs"] and lg["intact"] == lg["runs"]
                add("fakebmc %g%% loss: nothing lost or duplicated" % (rate * 100), ok,
                    "%d/%d runs intact, lost %s B, extra %s B" % (lg["intact"], lg["runs"], fmt_range(lg["lost"]), fmt_range(lg["extra"])))
            if bmc == "ipmisim":
                for kind in ("loss", "paced"):
                    kk = "%s_%g" % (kind, rate)
                    if kk not in g:
                        continue
                    gl = g[kk]
                    gv = (gl["lost"] or {}).get("median", 1e18) + (gl["extra"] or {}).get("median", 1e18)
                    peers = [(((agg[p][kk]["lost"] or {}).get("median", 1e18) + (agg[p][kk]["extra"] or {}).get("median", 1e18)), p)
                             for p in PEERS if p in agg and kk in agg[p]]
                    if peers:
                        bv, bp = min(peers)
                        add("ipmi_sim %s %g%%: lost+extra ≤ best peer" % (kind, rate * 100), gv <= bv,
                            "%s B vs %s %s B" % (fmt_num(gv), bp, fmt_num(bv)))
    return out


def fmt_num(v):
    return "n/a" if v is None or v >= 1e18 else "%.0f" % v


def markdown(agg_all, tg, meta):
    L = []
    clients = CFG["clients"]
    for bmc, agg in agg_all.items():
        title = {"ipmisim": "OpenIPMI ipmi_sim", "fakebmc": "fakebmc (our simulated BMC)"}[bmc]
        L.append("#### %s" % title)
        L.append("")
        L.append("| figure | " + " | ".join(clients) + " |")
        L.append("|---|" + "---|" * len(clients))

        def row(label, fn):
            L.append("| %s | %s |" % (label, " | ".join(fn(agg[c]) if c in agg else "–" for c in clients)))

        row("setup, ms", lambda f: fmt_range(f["setup"], 1e3))
        row("keystroke round trip, median, ms", lambda f: fmt_range(f["key_median"], 1e3, 2))
        row("keystroke round trip, p90, ms", lambda f: fmt_range(f["key_p90"], 1e3, 2))
        if any(agg[c].get("key_to_host") for c in clients if c in agg):
            row("… key typed → host has it, ms", lambda f: fmt_range(f.get("key_to_host"), 1e3, 2))
            row("… host echoes → client shows it, ms", lambda f: fmt_range(f.get("key_from_host"), 1e3, 2))
        row("output %d KiB, KiB/s" % (CFG["small"] // 1024), lambda f: fmt_range(f["small"]["rate"], 1 / 1024))
        row("… arrived intact", lambda f: f["small"]["intact"])
        row("output %d KiB, KiB/s" % (CFG["large"] // 1024), lambda f: fmt_range(f["large"]["rate"], 1 / 1024))
        row("… arrived intact", lambda f: f["large"]["intact"])
        row("idle CPU over %.0f s, ms" % CFG["idle_secs"], lambda f: fmt_range(f["idle_cpu"], 1e3, 1))
        row("… console works after idle", lambda f: f["idle_alive"])
        row("peak RSS, MiB", lambda f: fmt_range(f["rss_kib"], 1 / 1024, 1))
        for kind in ("loss", "paced"):
            for rate in CFG["loss_rates"]:
                k = "%s_%g" % (kind, rate)
                if not any(k in agg[c] for c in clients if c in agg):
                    continue
                size = CFG["paced_bytes"] if kind == "paced" else CFG["loss_bytes"]
                what = "%g%% loss, %d KiB%s" % (rate * 100, size // 1024,
                                                 " paced %d bps" % CFG["paced_bps"] if kind == "paced" else "")

                def cell_intact(f, k=k):
                    x = f.get(k)
                    return "–" if not x else "%d/%d intact" % (x["intact"], x["runs"]) + (
                        "" if x["attached"] == x["runs"] else ", %d/%d attached" % (x["attached"], x["runs"])) + (
                        "" if not x["attach_retries"] else ", %d attach retries" % x["attach_retries"])

                def cell_lost(f, k=k):
                    x = f.get(k)
                    return "–" if not x else "%s / %s" % (fmt_range(x["lost"]), fmt_range(x["extra"]))

                def cell_time(f, k=k):
                    x = f.get(k)
                    if not x:
                        return "–"
                    s = fmt_range(x["seconds"], 1, 1)
                    if x["complete"] < x["attached"]:
                        s += " (%d/%d finished)" % (x["complete"], x["attached"])
                    return s

                row(what, cell_intact)
                row("… bytes lost / extra", cell_lost)
                row("… time to finish, s", cell_time)
                if bmc == "ipmisim":
                    row("… ipmi_sim wedged (restarted)", lambda f, k=k: "–" if k not in f else "%d/%d" % (f[k]["wedged"], f[k]["runs"]))
        L.append("")
        # ratios
        if "ghmicons" in agg:
            peers = [p for p in PEERS if p in agg]
            L.append("Ratio ghmicons ÷ peer (%s):" % title)
            L.append("")
            L.append("| figure | " + " | ".join(peers) + " | better when |")
            L.append("|---|" + "---|" * len(peers) + "---|")
            g = agg["ghmicons"]

            def ratio(a, b):
                if not a or not b or a.get("median") is None or not b.get("median"):
                    return "–"
                return "%.2f×" % (a["median"] / b["median"])

            L.append("| setup | %s | lower |" % " | ".join(ratio(g["setup"], agg[p]["setup"]) for p in peers))
            L.append("| keystroke round trip (median) | %s | lower |" % " | ".join(ratio(g["key_median"], agg[p]["key_median"]) for p in peers))
            L.append("| output %d KiB | %s | higher |" % (CFG["small"] // 1024, " | ".join(ratio(g["small"]["rate"], agg[p]["small"]["rate"]) for p in peers)))
            L.append("| output %d KiB | %s | higher |" % (CFG["large"] // 1024, " | ".join(ratio(g["large"]["rate"], agg[p]["large"]["rate"]) for p in peers)))
            L.append("| idle CPU | %s | lower |" % " | ".join(ratio(g["idle_cpu"], agg[p]["idle_cpu"]) for p in peers))
            L.append("| peak RSS | %s | lower |" % " | ".join(ratio(g["rss_kib"], agg[p]["rss_kib"]) for p in peers))
            L.append("")
    if tg:
        L.append("#### Targets for ghmicons")
        L.append("")
        L.append("| BMC | target | met | measured |")
        L.append("|---|---|---|---|")
        for t in tg:
            L.append("| %s | %s | %s | %s |" % (t["bmc"], t["target"], "yes" if t["met"] else "**no**", t["detail"]))
        L.append("")
    return "\n".join(L)


def preflight():
    missing = []
    for b in ("ipmitool", "ipmiconsole", "ipmi_sim", "dpkg-query"):
        if not shutil.which(b):
            missing.append(b)
    for b in ("ghmicons", "fakebmc", "impairproxy"):
        if not os.access(os.path.join(BIN, b), os.X_OK):
            missing.append(os.path.join(BIN, b))
    if not os.access(PY, os.X_OK):
        missing.append(PY)
    else:
        r = subprocess.run([PY, "-c", "import pyghmi.ipmi.console"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode:
            missing.append("pyghmi (python3-pyghmi for %s)" % PY)
    if missing:
        raise BenchError("missing: %s (run scripts/install-peers.sh as root; run.sh builds our binaries)" % ", ".join(missing))
    unknown = set(CFG["clients"]) - set(ALL_CLIENTS)
    if unknown or set(CFG["bmcs"]) - {"ipmisim", "fakebmc"}:
        raise BenchError("unknown client or BMC in BENCH_CLIENTS/BENCH_BMCS")
    for port in (LOSSY_BMC_PORT, PROXY_PORT):
        if not free_udp(port):
            raise BenchError("UDP 127.0.0.1:%d is in use (another benchmark running?)" % port)
    global DIRECT_PORT
    for _ in range(500):
        p = random.randint(20000, 32767)
        if p != LOSSY_BMC_PORT and free_udp(p):
            DIRECT_PORT = p
            break
    else:
        raise BenchError("no free UDP port")


def report_header(meta, bench):
    header = ["Run of %s, %.0f min, %s." % (meta["started"], meta["duration_s"] / 60,
                                          "quick (BENCH_QUICK=1)" if CFG["quick"] else "full"),
              "Machine: %s, %d cores, %s, Linux %s; load average %.2f at start, %.2f at end%s." % (
                  meta["machine"]["cpu"], meta["machine"]["cores"], meta["machine"]["memory"],
                  meta["machine"]["kernel"], meta["machine"]["loadavg_start"][0], meta["machine"]["loadavg_end"][0],
                  ("; " + meta["load_note"]) if meta["load_note"] else ""),
              "Versions: " + "; ".join("%s: %s" % kv for kv in meta["versions"].items()) + ".",
              "Repetitions: %d sessions per client for setup/keys/throughput (%d keys each), %d × %.0f s idle, "
              "%d per loss rate (seeds %d…)." % (CFG["reps"], CFG["keys"], CFG["idle_reps"], CFG["idle_secs"],
                                                  CFG["loss_reps"], CFG["seed"] * 1000),
              "Cells: median (min–max) over the repetitions.", ""]
    if bench.events:
        header.append("Events: " + summarize_events(bench.events))
        header.append("")
    return header


def summarize_events(events):
    """One line: wedges counted per phase, everything else as it is."""
    wedges, other = {}, []
    for e in events:
        m = re.match(r"ipmi_sim wedged after (\S+) (\S+)% ", e)
        if m:
            k = "%s %s%%" % (m.group(1), m.group(2))
            wedges[k] = wedges.get(k, 0) + 1
        else:
            other.append(e)
    parts = []
    if wedges:
        parts.append("ipmi_sim wedged (detected, restarted) after " + ", ".join(
            "%d %s runs" % (n, k) for k, n in wedges.items()))
    return "; ".join(parts + other)


def render(path):
    """Re-renders latest.md from a results JSON (bench.py --render FILE)."""
    with open(path) as f:
        d = json.load(f)
    CFG.update(d["meta"]["config"])
    bench = Bench(None)
    bench.runs, bench.events = d["runs"], d["events"]
    agg = aggregate(bench)
    tg = targets(agg)
    md = markdown(agg, tg, d["meta"])
    text = "\n".join(report_header(d["meta"], bench)) + "\n" + md + "\n"
    with open(os.path.join(os.path.dirname(os.path.abspath(path)), "latest.md"), "w") as f:
        f.write(text)
    print(text)
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--render":
        return render(sys.argv[2])
    if not BIN:
        sys.stderr.write("bench.py: set BENCH_BIN (scripts/bench/run.sh does)\n")
        return 2
    t_begin = time.time()
    preflight()
    os.makedirs(OUT, exist_ok=True)
    work = tempfile.mkdtemp(prefix="ghmicons-bench.")
    log("work dir %s; config %s" % (work, json.dumps(CFG)))
    bench = Bench(work)
    meta = {"started": time.strftime("%Y-%m-%d %H:%M:%S %z"), "machine": machine(), "versions": versions(),
            "config": CFG, "load_note": os.environ.get("BENCH_LOAD_NOTE", ""), "work": work}
    bmcs = []
    interrupted = None
    try:
        for name in CFG["bmcs"]:
            bmc = IpmiSim(work) if name == "ipmisim" else FakeBMC(work)
            bmcs.append(bmc)
            log("=== %s: setup, keystrokes, throughput" % bmc.title)
            bench.phase_main(bmc)
            log("=== %s: idle" % bmc.title)
            bench.phase_idle(bmc)
            log("=== %s: lossy output" % bmc.title)
            bench.phase_loss(bmc, paced=False)
            if name == "ipmisim":
                log("=== %s: lossy output, paced host" % bmc.title)
                bench.phase_loss(bmc, paced=True)
            bmc.close()
    except KeyboardInterrupt:
        interrupted = "interrupted"
    except BenchError as e:
        interrupted = str(e)
        log("ERROR: %s" % e)
    finally:
        for b in bmcs:
            try:
                b.close()
            except Exception as e:  # keep cleaning up
                log("cleanup: %s" % e)
        cleanup_all()
    meta["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %z")
    meta["duration_s"] = round(time.time() - t_begin, 1)
    meta["machine"]["loadavg_end"] = os.getloadavg()
    agg = aggregate(bench)
    tg = targets(agg)
    md = markdown(agg, tg, meta)
    result = {"meta": meta, "figures": agg, "targets": tg, "events": bench.events,
              "failures": bench.failures, "error": interrupted, "runs": bench.runs}
    with open(os.path.join(OUT, "latest.json"), "w") as f:
        json.dump(result, f, indent=1, default=str)
    header = report_header(meta, bench)
    with open(os.path.join(OUT, "latest.md"), "w") as f:
        f.write("\n".join(header) + "\n" + md + "\n")
    print("\n".join(header))
    print(md)
    log("results: %s/latest.json, %s/latest.md (%.1f min)" % (OUT, OUT, meta["duration_s"] / 60))
    if interrupted:
        log("FAILED: %s (logs in %s)" % (interrupted, work))
        return 1
    if bench.failures:
        log("FAILED: a client could not run: %s (logs in %s)" % ("; ".join(bench.failures), work))
        return 1
    if os.environ.get("BENCH_STRICT") and not all(t["met"] for t in tg):
        log("targets missed (BENCH_STRICT)")
        return 3
    if not os.environ.get("BENCH_KEEP_WORK"):
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    def on_term(signum, frame):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, on_term)
    sys.exit(main())
