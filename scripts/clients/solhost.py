#!/usr/bin/python3
"""Host program for fakebmc --serial 'exec:/usr/bin/python3 solhost.py PAYLOAD'
(scripts/interop-clients.sh).  Python 3 standard library only.

Echoes every byte it receives on stdin to stdout, unchanged (an echoing
host, like cat).  In addition, when a received line (ended by CR or LF)
is exactly "@@payload@@", it writes the bytes of the file PAYLOAD to
stdout once, right after the echo of that line.
"""
import os
import sys

TRIGGER = b"@@payload@@"


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
                if line == TRIGGER:
                    with open(payload_path, "rb") as f:
                        write_all(1, f.read())
                line = b""
            elif len(line) < 64:
                line += c


if __name__ == "__main__":
    sys.exit(main())
