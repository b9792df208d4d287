#!/usr/bin/python3
"""pyghmi's SOL console as a plain program, for scripts/bench/bench.py.

    pyghmi_console.py [--suite 3|17] HOST PORT USER   (password from IPMI_PASSWORD)

Debian's `pyghmicons` (python3-pyghmi 1.5.x) does not work on Python 3 and
has no port option, so this drives pyghmi.ipmi.console.Console the way
pyghmicons does: an input thread hands stdin to Console.send_data, the main
thread runs pyghmi's event loop, and console output is written to stdout as
raw bytes. At end of input the SOL payload is deactivated, the session
closed and the program exits 0. Errors reported by pyghmi go to stderr and
end the program with status 1. Run it with Debian's /usr/bin/python3.

pyghmi has no cipher-suite option: it asks for suite 17 (SHA-256) and falls
back to suite 3 (SHA-1) when the BMC refuses. --suite 3 makes it start with
suite 3, so that every client of the benchmark runs the same suite; --suite
17 (the default) leaves pyghmi as it is.
"""

import os
import sys
import threading

from pyghmi.ipmi import console
from pyghmi.ipmi.private import session


def write_all(fd, data):
    while data:
        n = os.write(fd, data)
        data = data[n:]


def main():
    args = sys.argv[1:]
    suite = "17"
    if len(args) >= 2 and args[0] == "--suite":
        suite, args = args[1], args[2:]
    if len(args) != 3 or suite not in ("3", "17"):
        sys.stderr.write(__doc__)
        return 2
    host, port, user = args[0], int(args[1]), args[2]
    if suite == "3":
        # pyghmi's own first attempt is SHA-256 (attemptedhash 256); 1 means
        # SHA-1, which is what it falls back to.
        plain_init = session.Session._initsession

        def init_sha1(self):
            plain_init(self)
            self.attemptedhash = 1
        session.Session._initsession = init_sha1
    password = os.environ.get("IPMI_PASSWORD")
    if password is None:
        sys.stderr.write("pyghmi_console: set IPMI_PASSWORD\n")
        return 2

    state = {"status": None}
    done = threading.Event()

    def on_data(data):
        if isinstance(data, dict):
            if "error" in data:
                sys.stderr.write("pyghmi_console: error: %r\n" % (data["error"],))
                state["status"] = 1
                done.set()
            else:
                sys.stderr.write("pyghmi_console: %r\n" % (data,))
            return
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        write_all(1, bytes(data))

    sol = console.Console(bmc=host, userid=user, password=password,
                          iohandler=on_data, port=port, force=True)

    def pump_input():
        while True:
            try:
                data = os.read(0, 4096)
            except OSError:
                data = b""
            if not data:
                break
            sol.send_data(data)
        state["eof"] = True
        done.set()

    threading.Thread(target=pump_input, daemon=True).start()
    while not done.is_set():
        console.Console.wait_for_rsp(timeout=0.5)
    if state["status"]:
        return state["status"]
    # End of input: let pending output drain briefly, then leave cleanly.
    for _ in range(10):
        console.Console.wait_for_rsp(timeout=0.05)
    try:
        sol.close()
        if sol.ipmi_session is not None:
            sol.ipmi_session.logout()
    except Exception as e:  # the session may already be gone
        sys.stderr.write("pyghmi_console: close: %s\n" % e)
    return 0


if __name__ == "__main__":
    sys.stdout.flush()
    rc = main()
    os._exit(rc)
