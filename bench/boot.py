#!/usr/bin/env python3
"""Times machine starts through the agent against bare QEMU boots of the same kernel, initramfs and drive.

Orchestrated: POST /api/v1/machines with start=true → the first line of GET …/logs?follow=true.
Bare: spawn the very QEMU command line the agent used (read from /proc of its VMM, with paths moved to a scratch
directory and a fresh qcow2 overlay) → the first STDOUT frame, with guest_peer.py as the host side of the protocol.
usage: boot.py AGENT_URL IMAGE DATA_DIR SCRATCH RUNS
"""
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

agent, image, data_dir, scratch, runs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
here = os.path.dirname(os.path.abspath(__file__))
WORKLOAD = ["sh", "-c", "echo first-line; sleep 1"]


def call(method, path, body=None):
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


def orchestrated_run(capture):
    t0 = time.monotonic()
    m = call("POST", "/api/v1/machines", {"start": True, "config": {"image": image, "init": {"cmd": WORKLOAD}}})
    cmdline = None
    with urllib.request.urlopen(f"{agent}/api/v1/machines/{m['id']}/logs?follow=true", timeout=600) as r:
        first = r.readline()
        elapsed = time.monotonic() - t0
        if capture:
            cmdline = vmm_cmdline(m["id"])
    if first.strip() != b"first-line":
        sys.exit(f"unexpected first line {first!r} of machine {m['id']}")
    call("GET", f"/api/v1/machines/{m['id']}/wait?state=stopped,failed&timeout_s=120")
    call("DELETE", f"/api/v1/machines/{m['id']}?force=true")
    return elapsed, m["id"], cmdline


def bare_run(template, machine_id, run):
    """The agent's QEMU command line with the machine's paths moved into SCRATCH/bare-RUN."""
    workdir = os.path.join(data_dir, "machines", machine_id)
    mine = os.path.join(scratch, f"bare-{run}")
    os.makedirs(mine, exist_ok=True)
    args = [a.replace(workdir, mine).replace(machine_id, f"bare-{run}") for a in template]
    for a in args:
        for part in a.replace(",", "=").split("="):
            if part.startswith("/") and f"bare-{run}" in part:
                os.makedirs(os.path.dirname(part), exist_ok=True)
    overlay = next(p for a in args for p in a.replace(",", "=").split("=") if p.endswith(".qcow2"))
    backing = subprocess.run(["qemu-img", "info", "--output=json", os.path.join(workdir, os.path.basename(overlay))],
                             capture_output=True, text=True)
    base = json.loads(backing.stdout)["backing-filename"] if backing.returncode == 0 else BASE
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", base, overlay], check=True)
    ctl = next(p for a in args for p in a.replace(",", "=").split("=") if p.endswith("ctl.sock"))
    if os.path.exists(ctl):
        os.unlink(ctl)
    t0 = time.monotonic()
    vmm = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    peer = subprocess.run([sys.executable, os.path.join(here, "guest_peer.py"), ctl] + WORKLOAD,
                          capture_output=True, text=True)
    elapsed = time.monotonic() - t0
    vmm.send_signal(signal.SIGKILL)
    vmm.wait()
    if peer.returncode != 0 or peer.stdout.strip() != "first-line":
        sys.exit(f"bare run {run} failed: {peer.stderr or peer.stdout}")
    return elapsed


BASE = None
# Warm-up: pulls the image, builds its root drive and the boot assets; captures the VMM command line.
_, warm_id, template = orchestrated_run(capture=True)
if template is None:
    sys.exit("could not read the VMM's command line")
# The overlay of the warm-up machine is gone with it; find the shared base drive under DATA_DIR/images.
for root, _, files in os.walk(os.path.join(data_dir, "images")):
    if "rootfs.ext4" in files:
        BASE = os.path.join(root, "rootfs.ext4")

orch, bare = [], []
for i in range(runs):  # interleaved, so drift of the shared host hits both alike
    orch.append(orchestrated_run(capture=False)[0])
    bare.append(bare_run(template, warm_id, i))
    print(f"run {i + 1}: orchestrated {orch[-1] * 1000:7.0f} ms   bare qemu {bare[-1] * 1000:7.0f} ms", flush=True)

mo, mb = statistics.median(orch), statistics.median(bare)
print()
print(f"{'':22}{'median':>10}{'min':>10}{'max':>10}")
print(f"{'orchestrated (POST)':22}{mo * 1000:10.0f}{min(orch) * 1000:10.0f}{max(orch) * 1000:10.0f}  ms")
print(f"{'bare qemu (baseline)':22}{mb * 1000:10.0f}{min(bare) * 1000:10.0f}{max(bare) * 1000:10.0f}  ms")
print(f"ratio orchestrated/bare: {mo / mb:.3f}  (overhead {100 * (mo / mb - 1):+.1f} %, goal < +10 %)")
