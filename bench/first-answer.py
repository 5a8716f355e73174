#!/usr/bin/env python3
"""Prints the seconds from T0 (a Unix time, e.g. `date +%s.%N` taken before the request that starts the machine) until
http://HOST:PORT/ answers with a body holding EXPECT; exits 1 after LIMIT seconds without one.

A new connection is opened every 10 ms without giving up the ones still trying: a SYN sent before the VM is there is
lost, and the kernel would send it again only after a second, so a prober that waits on one connection (or gives up on
each after a fixed timeout) measures its own timeout, not the machine. Each attempt lives at most 2 s.

Usage: first-answer.py HOST PORT EXPECT T0 [LIMIT]
"""
import selectors
import socket
import sys
import time

INTERVAL = 0.01
ATTEMPT_LIFE = 2.0


def main():
    host, port, expect, t0 = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode(), float(sys.argv[4])
    limit = float(sys.argv[5]) if len(sys.argv) > 5 else 300.0
    request = ("GET / HTTP/1.0\r\nHost: %s\r\n\r\n" % host).encode()
    sel = selectors.DefaultSelector()
    attempts = {}  # socket -> [opened at, bytes received or None while connecting]
    next_open = 0.0
    try:
        while time.time() - t0 < limit:
            now = time.monotonic()
            if now >= next_open:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                s.connect_ex((host, port))
                attempts[s] = [now, None]
                sel.register(s, selectors.EVENT_WRITE)
                next_open = now + INTERVAL
            for key, _ in sel.select(timeout=max(0.0, next_open - time.monotonic())):
                s = key.fileobj
                state = attempts[s]
                if state[1] is None:  # connected, or failed
                    if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                        drop(sel, attempts, s)
                        continue
                    try:
                        s.sendall(request)
                    except OSError:
                        drop(sel, attempts, s)
                        continue
                    state[1] = b""
                    sel.modify(s, selectors.EVENT_READ)
                    continue
                try:
                    chunk = s.recv(65536)
                except OSError:
                    chunk = b""
                if chunk:
                    state[1] += chunk
                    continue
                if expect in state[1].partition(b"\r\n\r\n")[2]:
                    print("%.3f" % (time.time() - t0))
                    return 0
                drop(sel, attempts, s)
            for s in [s for s, (opened, _) in attempts.items() if time.monotonic() - opened > ATTEMPT_LIFE]:
                drop(sel, attempts, s)
        print("no answer holding %r from %s:%d within %.0f s" % (expect, host, port, limit), file=sys.stderr)
        return 1
    finally:
        for s in list(attempts):
            drop(sel, attempts, s)


def drop(sel, attempts, s):
    sel.unregister(s)
    s.close()
    del attempts[s]


if __name__ == "__main__":
    sys.exit(main())
