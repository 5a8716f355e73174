#!/usr/bin/env python3
"""The smallest host side of the guest protocol (docs/guest-protocol.md), for the bare-QEMU baseline of boot.sh.

Connects to a VMM's control socket, answers HELLO with a CONFIG running ARGV, and exits 0 as soon as the first
STDOUT frame arrives (printing it), 1 on FAILED or when the socket closes first. On stderr it prints
"hello_at=SECONDS", the time.monotonic() at which the guest's first HELLO arrived.
usage: guest_peer.py SOCKET ARG...
"""
import os
import socket
import struct
import sys
import time


def main():
    path, argv = sys.argv[1], sys.argv[2:]
    deadline = time.monotonic() + 120
    while True:
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            break
        except OSError:
            if time.monotonic() > deadline:
                sys.exit("guest_peer: cannot connect to " + path)
            time.sleep(0.005)
    pairs = [("arg", a) for a in argv] + [("env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"), ("hostname", "bare")]
    config = b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in pairs)
    buf = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("guest_peer: control channel closed")
        buf += chunk
        while len(buf) >= 5:
            kind, length = struct.unpack(">BI", buf[:5])
            if len(buf) < 5 + length:
                break
            payload, buf = buf[5:5 + length], buf[5 + length:]
            if kind == 0x01:
                sys.stderr.write(f"hello_at={time.monotonic()}\n")
                sys.stderr.flush()
                s.sendall(struct.pack(">BI", 0x81, len(config)) + config)
            elif kind == 0x03:
                sys.stdout.write(payload.decode(errors="replace"))
                sys.stdout.flush()
                os._exit(0)
            elif kind == 0x06:
                sys.exit("guest_peer: FAILED " + payload.decode(errors="replace"))


main()
