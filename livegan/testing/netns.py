"""A private network namespace with loopback only, for Ableton Link in tests and benchmarks.

Link finds its peers by UDP multicast. A command run through ``netns_argv`` lives in a network
namespace of its own (``unshare -n``, root needed) whose only interface is loopback, set up for
multicast, so its peers (its child processes) find each other there and no packet leaves the
machine. The namespace ends with the command. Unix sockets on the file system (a JACK server's, in
/dev/shm) are not part of a network namespace: a JACK server started inside the command is reached
there as anywhere.
"""
from __future__ import annotations

import subprocess

SETUP = "ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo"


def netns_argv(argv) -> list:
    """``argv`` run inside a fresh loopback-only network namespace."""
    return ["unshare", "-n", "sh", "-c", SETUP + ' && exec "$@"', "netns", *argv]


def netns_problem() -> str | None:
    """Why no such namespace can be made here (unshare or ip refused), else None."""
    try:
        r = subprocess.run(netns_argv(["ip", "-o", "link"]), capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unshare -n cannot run here ({e})"
    if r.returncode != 0:
        return f"unshare -n / ip refused here: {(r.stderr or r.stdout).strip()[:200]}"
    if [ln.split(":")[1].strip() for ln in r.stdout.splitlines()] != ["lo"]:
        return f"the namespace has more than loopback: {r.stdout.strip()[:200]}"
    return None
