#!/usr/bin/python3
"""Host program for fakebmc --serial 'exec:/usr/bin/python3 solhost.py PAYLOAD'
(scripts/interop-clients.sh).  Python 3 standard library only.

Echoes every byte it receives on stdin to stdout, unchanged (an echoing
host, like cat).  In addition, when a received line (ended by CR or LF)
is exactly "@@payload@@", it writes the bytes of the file PAYLOAD to
stdout once, right after the echo of that line, as fast as the BMC takes
them; "@@payload:RATE@@" does the same paced at RATE bytes/s (1 KiB
chunks), closer to a real serial line.  Input is not read while a payload
is being written.
"""
import os
import re
import sys
import time

TRIGGER = re.compile(rb"^@@payload(?::([0-9]+))?@@$")


def send_payload(path, rate):
    with open(path, "rb") as f:
        data = f.read()
    if not rate:
        write_all(1, data)
        return
    t0 = time.monotonic()
    for off in range(0, len(data), 1024):
        due = t0 + off / rate
        d = due - time.monotonic()
        if d > 0:
            time.sleep(d)
        write_all(1, data[off:off + 1024])


def write_all(fd, data):
    while data:
        n = os.write(fd, data)
        data = data[n:]


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: solhost.py PAYLOAD\n")
        return 2
    payload_path = sys.argv[1]
    line = b""
    while True:
        data = os.read(0, 65536)
        if not data:
            return 0
        write_all(1, data)
        for b in data:
            c = bytes((b,))
            if c in (b"\r", b"\n"):
                m = TRIGGER.match(line)
                if m:
                    send_payload(payload_path, int(m.group(1) or 0))
                line = b""
            elif len(line) < 64:
                line += c


if __name__ == "__main__":
    sys.exit(main())
