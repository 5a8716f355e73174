#!/usr/bin/env python3
"""Times machine starts through agents against bare QEMU boots of the same kernel, initramfs and drive.

One agent per kernel (each its own data directory), all measured in the same run, interleaved.
Orchestrated: POST /api/v1/machines with start=true → the first line of GET …/logs?follow=true.
Bare: spawn the very QEMU command line the agent used (read from /proc of its VMM, with paths moved to a scratch
directory and a fresh qcow2 overlay) → the first STDOUT frame, with guest_peer.py as the host side of the protocol.
A bare boot also gives the kernel's own boot time (bolero-init's uptime when it starts, from the serial console) and
the time from spawning QEMU to the guest's first HELLO.
usage: boot.py IMAGE SCRATCH RUNS LABEL=AGENT_URL=DATA_DIR...
"""
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

image, scratch, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
kernels = [tuple(a.split("=", 2)) for a in sys.argv[4:]]
here = os.path.dirname(os.path.abspath(__file__))
WORKLOAD = ["sh", "-c", "echo first-line; sleep 1"]
UPTIME = re.compile(rb"uptime: init at (\d+) ms, workload at (\d+) ms(?:; channel at (\d+) ms, config at (\d+) ms)?")


def call(agent, method, path, body=None):
    req = urllib.request.Request(agent + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        data = r.read()
        return json.loads(data) if data else None


def vmm_cmdline(machine_id):
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = f.read().split(b"\0")[:-1]
        except OSError:
            continue
        if args and b"qemu-system" in args[0] and any(machine_id.encode() in a for a in args):
            return [a.decode() for a in args]
    return None


def paths_in(args):
    return [p for a in args for p in a.replace(",", "=").replace(":", "=").split("=") if p.startswith("/")]


class Kernel:
    """One agent (booting one kernel) and the template of its bare boots."""

    def __init__(self, label, agent, data_dir):
        self.label, self.agent, self.data_dir = label, agent, data_dir
        self.orch, self.bare, self.init_at, self.hello = [], [], [], []
        self.channel_at, self.config_at, self.workload_at = [], [], []  # bolero-init's uptimes (bare runs)
        node = call(agent, "GET", "/api/v1/node")
        self.kernel = node.get("kernel") or {}
        # Warm-up: pulls the image, builds its root drive and the boot assets; captures the VMM command line.
        _, self.warm_id, self.template = self.orchestrated_run(capture=True)
        if self.template is None:
            sys.exit(f"{label}: could not read the VMM's command line")
        # The overlay of the warm-up machine is gone with it; find the shared base drive under DATA_DIR/images.
        self.base = None
        for root, _, files in os.walk(os.path.join(data_dir, "images")):
            if "rootfs.ext4" in files:
                self.base = os.path.join(root, "rootfs.ext4")
        if self.base is None:
            sys.exit(f"{label}: no rootfs.ext4 under {data_dir}/images")

    def orchestrated_run(self, capture):
        t0 = time.monotonic()
        m = call(self.agent, "POST", "/api/v1/machines", {"start": True, "config": {"image": image, "init": {"cmd": WORKLOAD}}})
        cmdline = None
        with urllib.request.urlopen(f"{self.agent}/api/v1/machines/{m['id']}/logs?follow=true", timeout=600) as r:
            first = r.readline()
            elapsed = time.monotonic() - t0
            if capture:
                cmdline = vmm_cmdline(m["id"])
        if first.strip() != b"first-line":
            sys.exit(f"{self.label}: unexpected first line {first!r} of machine {m['id']}")
        call(self.agent, "GET", f"/api/v1/machines/{m['id']}/wait?state=stopped,failed&timeout_s=120")
        call(self.agent, "DELETE", f"/api/v1/machines/{m['id']}?force=true")
        return elapsed, m["id"], cmdline

    def bare_run(self, run):
        """The agent's QEMU command line with the machine's paths moved into SCRATCH/LABEL-bare-RUN."""
        workdir = os.path.join(self.data_dir, "machines", self.warm_id)
        name = f"{self.label}-bare-{run}"
        mine = os.path.join(scratch, name)
        os.makedirs(mine, exist_ok=True)
        args = [a.replace(workdir, mine).replace(self.warm_id, name) for a in self.template]
        for p in paths_in(args):
            if name in p:
                os.makedirs(os.path.dirname(p), exist_ok=True)
        overlay = next(p for p in paths_in(args) if p.endswith(".qcow2"))
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", self.base, overlay], check=True)
        ctl = next(p for p in paths_in(args) if p.endswith("ctl.sock"))
        console = args[args.index("-serial") + 1].removeprefix("file:")
        for leftover in (ctl, console):
            if os.path.exists(leftover):
                os.unlink(leftover)
        t0 = time.monotonic()
        vmm = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        peer = subprocess.run([sys.executable, os.path.join(here, "guest_peer.py"), ctl] + WORKLOAD,
                              capture_output=True, text=True)
        elapsed = time.monotonic() - t0
        vmm.send_signal(signal.SIGKILL)
        vmm.wait()
        if peer.returncode != 0 or peer.stdout.strip() != "first-line":
            sys.exit(f"{self.label}: bare run {run} failed: {peer.stderr or peer.stdout}")
        self.bare.append(elapsed)
        hello = [float(line.split("=", 1)[1]) for line in peer.stderr.splitlines() if line.startswith("hello_at=")]
        if hello:
            self.hello.append(hello[0] - t0)
        with open(console, "rb") as f:
            found = UPTIME.search(f.read())
        if found:
            self.init_at.append(int(found.group(1)) / 1000)
            self.workload_at.append(int(found.group(2)) / 1000)
            if found.group(3):
                self.channel_at.append(int(found.group(3)) / 1000)
                self.config_at.append(int(found.group(4)) / 1000)


def ms(values):
    if not values:
        return f"{'n/a':>10}{'':>10}{'':>10}"
    return f"{statistics.median(values) * 1000:10.0f}{min(values) * 1000:10.0f}{max(values) * 1000:10.0f}"


measured = [Kernel(*k) for k in kernels]
for k in measured:
    print(f"{k.label}: {k.kernel.get('flavour', '?')} kernel {k.kernel.get('image', '?')}")
for i in range(runs):  # interleaved, so drift of the shared host hits every kernel and both paths alike
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    line = [f"run {i + 1} (load {load}):"]
    for k in measured:
        k.orch.append(k.orchestrated_run(capture=False)[0])
        k.bare_run(i)
        line.append(f"{k.label}: bolero {k.orch[-1] * 1000:6.0f} ms, bare qemu {k.bare[-1] * 1000:6.0f} ms")
    print("   ".join(line), flush=True)

print()
print(f"{'POST → first log line':44}{'median':>10}{'min':>10}{'max':>10}")
for k in measured:
    print(f"{'bolero, ' + k.label + ' kernel':44}{ms(k.orch)}  ms")
    print(f"{'bare qemu, ' + k.label + ' kernel (baseline)':44}{ms(k.bare)}  ms")
print()
print(f"{'boot alone (bare qemu runs)':44}{'median':>10}{'min':>10}{'max':>10}")
for k in measured:
    print(f"{k.label + ' kernel: its own boot (uptime at /init)':44}{ms(k.init_at)}  ms")
    print(f"{k.label + ' kernel: QEMU spawn → first HELLO':44}{ms(k.hello)}  ms")
    print(f"{'  bolero-init: control channel found at':44}{ms(k.channel_at)}  ms uptime")
    print(f"{'  bolero-init: CONFIG received at':44}{ms(k.config_at)}  ms uptime")
    print(f"{'  bolero-init: workload spawned at':44}{ms(k.workload_at)}  ms uptime")
print()
for k in measured:
    mo, mb = statistics.median(k.orch), statistics.median(k.bare)
    print(f"{k.label} kernel: orchestrated/bare {mo / mb:.3f} (overhead {100 * (mo / mb - 1):+.1f} %, goal < +5 %)")
if len(measured) > 1:
    first, last = measured[0], measured[-1]
    print(f"bolero {first.label} / bolero {last.label}: "
          f"{statistics.median(first.orch) / statistics.median(last.orch):.3f} (goal ≤ 0.5, ≤ 1.0 s)")
