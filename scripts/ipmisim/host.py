#!/usr/bin/python3
"""Host side of ipmi_sim's SOL serial line, for scripts/interop-ipmisim.sh.

ipmi_sim (config `sol "tcp:127.0.0.1:SOLPORT" ...`) connects OUT to SOLPORT and
treats that TCP stream as the host's serial port.  This program listens there
(start it before ipmi_sim: ipmi_sim retries only every ~10 s) and is driven
through a second TCP port, the control port, so that one ipmi_sim connection
serves every test phase.  Python 3 standard library only.

Server:
    host.py serve --serial 127.0.0.1:SOLPORT --control 127.0.0.1:CTLPORT
                  [--ready-file FILE] [--log FILE]
  Both ports listen on 127.0.0.1 only.  --ready-file is written once both
  sockets listen.  Exits on the control command "quit" or SIGTERM/SIGINT.

Client (one command, prints the reply line, exit 0 on "OK ...", 1 otherwise):
    host.py ctl CTLPORT COMMAND [ARG...]

Control protocol: one text line per command, one reply line "OK ..." or
"ERR ...".  A reconnecting ipmi_sim replaces the previous serial connection.
    ping                  -> OK pong
    connected             -> OK 1|0   (is ipmi_sim connected to the serial port)
    echo                  rx mode: send back everything received (the default);
                          byte counters are reset
    discard               rx mode: drop everything received; counters reset
    record PATH           rx mode: append received bytes to PATH (truncated
                          first); byte counters are reset
    stats                 -> OK rx=N tx=N first_rx=T last_rx=T tx_start=T
                             tx_end=T tx_busy=0|1 conns=N  (T: unix time, 0 if none)
    send PATH             send PATH's bytes to the serial side (background)
    lines COUNT MS [WIDTH] send COUNT numbered lines "NNNNNNNN xxxx...\\n"
                          (WIDTH bytes incl. newline, default 48), one every
                          MS milliseconds (background; paced by absolute
                          deadlines, so the average rate is exact)
    txwait SECS           wait until the background sender finished
                          -> OK tx=N, or ERR timeout / ERR send failed: ...
    quit                  stop the server
Counters rx/tx count serial-side bytes since the last "record" (or start).
"""

import os
import signal
import socket
import sys
import threading
import time


def parse_addr(s):
    host, _, port = s.rpartition(":")
    if host not in ("127.0.0.1", "localhost"):
        raise SystemExit("host.py: only 127.0.0.1 is allowed, got %r" % s)
    return ("127.0.0.1", int(port))


def line_payload(i, width):
    head = b"%08d " % i
    body_len = width - len(head) - 1
    if body_len < 0:
        raise ValueError("width too small")
    # Deterministic printable filler that depends on the line number.
    filler = bytes(0x21 + ((i * 7 + k * 13) % 94) for k in range(body_len))
    return head + filler + b"\n"


class Host:
    def __init__(self, log):
        self.lock = threading.Lock()
        self.send_lock = threading.Lock()
        self.conn = None
        self.conns = 0
        self.mode = "echo"
        self.rec = None
        self.rx = self.tx = 0
        self.first_rx = self.last_rx = 0.0
        self.tx_start = self.tx_end = 0.0
        self.tx_thread = None
        self.tx_error = None
        self.stop = threading.Event()
        self.logf = log

    def log(self, msg):
        if self.logf:
            self.logf.write("%.3f %s\n" % (time.time(), msg))
            self.logf.flush()

    # ---- serial side -------------------------------------------------
    def serial_accept_loop(self, lsock):
        while not self.stop.is_set():
            try:
                c, peer = lsock.accept()
            except OSError:
                return
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                old = self.conn
                self.conn = c
                self.conns += 1
            self.log("serial connection %d from %s" % (self.conns, peer))
            if old is not None:
                try:
                    old.close()
                except OSError:
                    pass
            threading.Thread(target=self.serial_reader, args=(c,), daemon=True).start()

    def serial_reader(self, c):
        while True:
            try:
                data = c.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            now = time.time()
            with self.lock:
                if self.conn is not c:
                    break
                if self.rx == 0:
                    self.first_rx = now
                self.rx += len(data)
                self.last_rx = now
                mode, rec = self.mode, self.rec
                if mode == "record" and rec is not None:
                    rec.write(data)
                    rec.flush()
            if mode == "echo":
                try:
                    self.serial_send(data, c)
                except OSError:
                    break
        with self.lock:
            if self.conn is c:
                self.conn = None
        self.log("serial connection closed")
        try:
            c.close()
        except OSError:
            pass

    def serial_send(self, data, c=None):
        with self.send_lock:
            if c is None:
                with self.lock:
                    c = self.conn
            if c is None:
                raise OSError("no serial connection")
            c.sendall(data)
            with self.lock:
                self.tx += len(data)

    # ---- background senders -----------------------------------------
    def start_tx(self, fn):
        with self.lock:
            if self.tx_thread is not None and self.tx_thread.is_alive():
                return "ERR sender busy"
            self.tx_error = None
            self.tx_start = time.time()
            self.tx_end = 0.0
            t = threading.Thread(target=self.tx_wrapper, args=(fn,), daemon=True)
            self.tx_thread = t
        t.start()
        return "OK started"

    def tx_wrapper(self, fn):
        try:
            fn()
        except Exception as e:  # reported through txwait
            self.tx_error = "%s: %s" % (type(e).__name__, e)
            self.log("sender failed: %s" % self.tx_error)
        with self.lock:
            self.tx_end = time.time()

    def send_file(self, path):
        with open(path, "rb") as f:
            data = f.read()

        def run():
            for off in range(0, len(data), 4096):
                self.serial_send(data[off:off + 4096])
        return run

    def send_lines(self, count, ms, width):
        def run():
            t0 = time.monotonic()
            for i in range(1, count + 1):
                deadline = t0 + (i - 1) * ms / 1000.0
                d = deadline - time.monotonic()
                if d > 0:
                    time.sleep(d)
                self.serial_send(line_payload(i, width))
        return run

    # ---- control side ------------------------------------------------
    def command(self, line):
        args = line.split()
        if not args:
            return "ERR empty"
        cmd = args[0]
        if cmd == "ping":
            return "OK pong"
        if cmd == "connected":
            with self.lock:
                return "OK %d" % (1 if self.conn is not None else 0)
        if cmd in ("echo", "discard"):
            with self.lock:
                self.mode = cmd
                self.rx = self.tx = 0
                self.first_rx = self.last_rx = 0.0
                if self.rec:
                    self.rec.close()
                    self.rec = None
            return "OK " + cmd
        if cmd == "record" and len(args) == 2:
            f = open(args[1], "wb")
            with self.lock:
                if self.rec:
                    self.rec.close()
                self.rec = f
                self.mode = "record"
                self.rx = self.tx = 0
                self.first_rx = self.last_rx = 0.0
            return "OK record"
        if cmd == "stats":
            with self.lock:
                busy = self.tx_thread is not None and self.tx_thread.is_alive()
                return ("OK rx=%d tx=%d first_rx=%.6f last_rx=%.6f tx_start=%.6f "
                        "tx_end=%.6f tx_busy=%d conns=%d mode=%s" % (
                            self.rx, self.tx, self.first_rx, self.last_rx,
                            self.tx_start, self.tx_end, busy, self.conns, self.mode))
        if cmd == "send" and len(args) == 2:
            return self.start_tx(self.send_file(args[1]))
        if cmd == "lines" and len(args) in (3, 4):
            width = int(args[3]) if len(args) == 4 else 48
            line_payload(1, width)  # validates width
            return self.start_tx(self.send_lines(int(args[1]), float(args[2]), width))
        if cmd == "txwait" and len(args) == 2:
            t = self.tx_thread
            if t is not None:
                t.join(float(args[1]))
                if t.is_alive():
                    return "ERR timeout"
            if self.tx_error:
                return "ERR send failed: " + self.tx_error
            with self.lock:
                return "OK tx=%d" % self.tx
        if cmd == "quit":
            self.stop.set()
            return "OK bye"
        return "ERR unknown command %r" % line

    def control_client(self, c):
        f = c.makefile("rwb", buffering=0)
        try:
            for raw in f:
                line = raw.decode("utf-8", "replace").strip()
                try:
                    reply = self.command(line)
                except Exception as e:
                    reply = "ERR %s: %s" % (type(e).__name__, e)
                self.log("ctl %r -> %r" % (line, reply))
                f.write((reply + "\n").encode())
                if self.stop.is_set():
                    break
        except OSError:
            pass
        finally:
            c.close()

    def control_accept_loop(self, lsock):
        while not self.stop.is_set():
            try:
                c, _ = lsock.accept()
            except OSError:
                return
            threading.Thread(target=self.control_client, args=(c,), daemon=True).start()


def listen(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(addr)
    s.listen(8)
    return s


def serve(argv):
    opts = {"--serial": None, "--control": None, "--ready-file": None, "--log": None}
    i = 0
    while i < len(argv):
        if argv[i] not in opts or i + 1 >= len(argv):
            raise SystemExit("host.py serve: bad argument %r\n%s" % (argv[i], __doc__))
        opts[argv[i]] = argv[i + 1]
        i += 2
    if not opts["--serial"] or not opts["--control"]:
        raise SystemExit("host.py serve: --serial and --control are required")
    logf = open(opts["--log"], "a") if opts["--log"] else None
    h = Host(logf)
    ls = listen(parse_addr(opts["--serial"]))
    lc = listen(parse_addr(opts["--control"]))

    def on_signal(signum, frame):
        h.stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    threading.Thread(target=h.serial_accept_loop, args=(ls,), daemon=True).start()
    threading.Thread(target=h.control_accept_loop, args=(lc,), daemon=True).start()
    if opts["--ready-file"]:
        tmp = opts["--ready-file"] + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(tmp, opts["--ready-file"])
    h.log("listening serial=%s control=%s" % (opts["--serial"], opts["--control"]))
    while not h.stop.wait(0.5):
        pass
    time.sleep(0.1)  # let the "OK bye" reply go out
    for s in (ls, lc):
        s.close()
    with h.lock:
        if h.conn is not None:
            h.conn.close()
        if h.rec:
            h.rec.close()
    h.log("stopped")
    return 0


def ctl(argv):
    if len(argv) < 2:
        raise SystemExit("usage: host.py ctl CTLPORT COMMAND [ARG...]")
    port = int(argv[0])
    timeout = 10.0
    if argv[1] == "txwait" and len(argv) > 2:
        timeout = float(argv[2]) + 10.0
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5.0) as s:
            s.settimeout(timeout)
            s.sendall((" ".join(argv[1:]) + "\n").encode())
            buf = b""
            while not buf.endswith(b"\n"):
                d = s.recv(4096)
                if not d:
                    break
                buf += d
    except OSError as e:
        print("ERR control connection: %s" % e)
        return 1
    reply = buf.decode("utf-8", "replace").strip()
    print(reply)
    return 0 if reply.startswith("OK") else 1


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "serve":
        return serve(sys.argv[2:])
    if len(sys.argv) >= 2 and sys.argv[1] == "ctl":
        return ctl(sys.argv[2:])
    if len(sys.argv) >= 2 and sys.argv[1] == "gen-lines":
        # gen-lines COUNT [WIDTH]: print the expected line stream to stdout
        width = int(sys.argv[3]) if len(sys.argv) > 3 else 48
        out = sys.stdout.buffer
        for i in range(1, int(sys.argv[2]) + 1):
            out.write(line_payload(i, width))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
