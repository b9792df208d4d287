#!/usr/bin/python3
"""A host with a login prompt on ipmi_sim's SOL serial line, for
scripts/interop-expect.sh.

ipmi_sim (config `sol "tcp:127.0.0.1:SOLPORT" ...`) connects OUT to SOLPORT
and treats the TCP stream as the host's serial port.  This program listens
there and plays a machine: it watches the chassis state that
scripts/ipmisim/chassis.sh keeps (CHASSIS/power, CHASSIS/boot,
CHASSIS/reset_count), and on every power-on or reset it prints a short boot
log naming the boot device, then "ipmisim-host login: ".  A small line
discipline echoes what is typed (not the password) and answers a few shell
commands:  hostname, cat /etc/machine-id, echo TEXT, exit.  Python 3
standard library only.

    loginhost.py --serial 127.0.0.1:SOLPORT --chassis STATEDIR/chassis
                 [--ready-file FILE] [--log FILE] [--line-delay SECONDS]

Only 127.0.0.1.  Exits on SIGTERM or SIGINT.
"""

import argparse
import os
import signal
import socket
import sys
import threading
import time

MACHINE_ID = "5f3c2a9e8d7b4c61a0e9f8d7c6b5a493"
HOSTNAME = "ipmisim-host"


class Host:
    def __init__(self, chassis, delay, log):
        self.chassis = chassis
        self.delay = delay
        self.logf = log
        self.lock = threading.Lock()
        self.conn = None
        self.state = "login"  # off, booting, login, password, shell
        self.buf = b""
        self.user = ""
        self.boots = 0

    def log(self, msg):
        if self.logf:
            self.logf.write("%.3f %s\n" % (time.time(), msg))
            self.logf.flush()

    def read(self, name, default):
        try:
            with open(os.path.join(self.chassis, name)) as f:
                return f.read().strip() or default
        except OSError:
            return default

    def say(self, s):
        with self.lock:
            c = self.conn
        if c is None:
            return
        try:
            c.sendall(s.encode())
        except OSError:
            pass

    # ---- the machine ---------------------------------------------------
    def watch(self):
        power, resets = self.read("power", "1"), self.read("reset_count", "0")
        while True:
            time.sleep(0.05)
            p, r = self.read("power", "1"), self.read("reset_count", "0")
            if p == "0" and power != "0":
                self.log("power off")
                self.state = "off"
            if p == "1" and (power != "1" or r != resets):
                self.boot()
            power, resets = p, r

    def boot(self):
        self.boots += 1
        dev = self.read("boot", "none")
        self.log("boot %d from %s" % (self.boots, dev))
        self.state = "booting"
        lines = [
            "",
            "ipmi_sim test host BIOS (boot %d)" % self.boots,
            "Boot device: %s" % dev,
        ]
        if dev == "pxe":
            lines += ["PXE: DHCP... got 198.51.100.7", "PXE: loading pxelinux.0 ... local boot"]
        lines += ["Loading Linux 6.1.0-ipmisim ...", "", "Debian GNU/Linux 12 %s ttyS0" % HOSTNAME, ""]
        for l in lines:
            if self.state != "booting":
                return  # powered off meanwhile
            self.say(l + "\r\n")
            time.sleep(self.delay)
        self.state = "login"
        self.buf = b""
        self.prompt()

    def prompt(self):
        if self.state == "login":
            self.say("%s login: " % HOSTNAME)
        elif self.state == "password":
            self.say("Password: ")
        elif self.state == "shell":
            self.say("%s@%s:~# " % (self.user, HOSTNAME))

    def keys(self, data):
        if self.state in ("off", "booting"):
            return  # typed while the machine is off or booting: lost
        for c in data:
            ch = bytes([c])
            if ch in (b"\r", b"\n"):
                self.say("\r\n")
                line, self.buf = self.buf.decode(errors="replace"), b""
                self.enter(line)
            elif c in (0x7F, 0x08):
                if self.buf:
                    self.buf = self.buf[:-1]
                    if self.state != "password":
                        self.say("\b \b")
            elif c >= 0x20 and len(self.buf) < 1024:
                self.buf += ch
                if self.state != "password":
                    self.say(ch.decode(errors="replace"))

    def enter(self, line):
        if self.state == "login":
            if line.strip():
                self.user = line.strip()
                self.state = "password"
        elif self.state == "password":
            self.log("login as %s" % self.user)
            self.state = "shell"
        elif self.state == "shell":
            w = line.split()
            if not w:
                pass
            elif w == ["hostname"]:
                self.say(HOSTNAME + "\r\n")
            elif w == ["cat", "/etc/machine-id"]:
                self.say(MACHINE_ID + "\r\n")
            elif w[0] == "echo":
                self.say(" ".join(w[1:]) + "\r\n")
            elif w[0] in ("exit", "logout"):
                self.state = "login"
                self.say("\r\n")
            else:
                self.say("-bash: %s: command not found\r\n" % w[0])
        self.prompt()

    # ---- the serial side -------------------------------------------------
    def serve(self, lsock):
        while True:
            c, peer = lsock.accept()
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                old, self.conn = self.conn, c
            if old is not None:
                old.close()
            self.log("serial connection from %s" % (peer,))
            threading.Thread(target=self.reader, args=(c,), daemon=True).start()

    def reader(self, c):
        while True:
            try:
                data = c.recv(4096)
            except OSError:
                data = b""
            if not data:
                break
            self.keys(data)
        with self.lock:
            if self.conn is c:
                self.conn = None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--serial", required=True)
    ap.add_argument("--chassis", required=True)
    ap.add_argument("--ready-file")
    ap.add_argument("--log")
    ap.add_argument("--line-delay", type=float, default=0.05)
    a = ap.parse_args()
    host, _, port = a.serial.rpartition(":")
    if host != "127.0.0.1":
        sys.exit("loginhost.py: only 127.0.0.1 is allowed, got %r" % a.serial)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    log = open(a.log, "a") if a.log else None
    h = Host(a.chassis, a.line_delay, log)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", int(port)))
    ls.listen(4)
    threading.Thread(target=h.watch, daemon=True).start()
    if a.ready_file:
        with open(a.ready_file, "w") as f:
            f.write("ready\n")
    try:
        h.serve(ls)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
