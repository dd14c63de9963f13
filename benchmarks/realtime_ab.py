"""Interleaved A/B rounds on one JACK dummy server per block size (``benchmarks/realtime.py --ab``).

Each round runs, one after another, a C null client (``jack_simple_client``: a sine on two ports it
connects to the system playback itself), livegan idle (``--child --gen off``: the engine playing one
loop, knobs moving) and livegan busy (``--child --gen thread --fx``: a new loop every beat, effects
on); the order rotates by one client per round, so drift in the machine's noise falls on every client
alike. Xruns are counted from JACK's own log: every ``JackEngine::XRun: client = NAME`` line written
in a client's window is charged to that round's client (the C client: from its start to its SIGTERM;
a livegan child: from just before its stream starts to just after it stops; clients run one at a time;
the names JACK blamed are kept too), and lines written between clients to no client. livegan's
excess is the paired difference (livegan - C, same round): its mean with a 95 % Student t interval.
"""
from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time

from livegan.testing.jackd import start_jack, stop_jack

REALTIME = os.path.join(os.path.dirname(os.path.abspath(__file__)), "realtime.py")
CLIENTS = ("c", "idle", "busy")
XRUN = re.compile(r"JackEngine::XRun: client = (.+?)(?: was not finished.*)?$", re.MULTILINE)
SETTLE_S = 0.5  # between clients: the server runs alone (its xruns then are charged to no client)
# Student t 0.975 quantiles for 1..30 degrees of freedom (two-sided 95 %)
T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042)


def t975(df: int) -> float:
    """Two-sided 95 % Student t quantile: the table to 30 degrees of freedom, then the Cornish-Fisher
    expansion around the normal quantile (within 0.001 of the exact value from 31 on)."""
    if df <= len(T975):
        return T975[df - 1]
    z = 1.959964
    return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)


def paired_excess(livegan: list[int], c: list[int]) -> dict:
    """Mean of livegan - C over the rounds, with its 95 % t interval (None below two rounds)."""
    d = [a - b for a, b in zip(livegan, c)]
    n = len(d)
    mean = sum(d) / n if n else math.nan
    if n < 2:
        return {"n": n, "mean": mean, "ci95": None, "method": "t", "differences": d}
    sd = math.sqrt(sum((x - mean) ** 2 for x in d) / (n - 1))
    half = t975(n - 1) * sd / math.sqrt(n)
    return {"n": n, "mean": mean, "ci95": [mean - half, mean + half], "method": "t", "differences": d}


def round_order(clients: list[str], r: int) -> list[str]:
    """Round r's running order: the client list rotated by r."""
    k = r % len(clients)
    return clients[k:] + clients[:k]


def client_commands(args, model: str, bs: int) -> dict[str, list[str]]:
    """The command line of each client at block size ``bs``."""
    child = [sys.executable, REALTIME, "--child", "--blocksize", str(bs), "--seconds", str(args.seconds),
             "--model", model, "--switch-interval", str(args.switch_interval), "--audio", args.audio]
    return {"c": ["jack_simple_client"], "idle": child + ["--gen", "off"],
            "busy": child + ["--gen", "thread", "--fx"]}


def xrun_names(log_path: str, start: int, end: int) -> list[str]:
    """The client names of the ``JackEngine::XRun`` lines between byte offsets start and end of the log."""
    with open(log_path, "rb") as f:
        f.seek(start)
        text = f.read(end - start).decode("utf-8", "replace")
    return XRUN.findall(text)


def run_client(cmd: list[str], env: dict, seconds: float, log_path: str) -> dict:
    """Run one client to its end (the C client is SIGTERMed after ``seconds``); -> JACK's xruns in its
    window, the names blamed, its own xrun count (livegan's RESULT line) and how it went."""
    start = os.path.getsize(log_path)
    t0 = time.monotonic()
    own, error, stop, secs = None, None, None, None
    if cmd[0] == "jack_simple_client":
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(seconds)
        early = p.poll() is not None
        p.terminate()
        try:
            _, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
        error = f"exited early: {err.strip()[-500:]}" if early else None
    else:
        own, error, (start, stop, secs) = _run_child(cmd, env, seconds, log_path)
    end = os.path.getsize(log_path) if cmd[0] == "jack_simple_client" or stop is None else stop
    names = xrun_names(log_path, start, end)
    return {"jack_xruns": len(names), "blamed": sorted(set(names)), "own_xruns": own, "ok": error is None,
            "error": error, "window_s": round(secs if secs is not None else time.monotonic() - t0, 2),
            "log_bytes": [start, end]}


def _run_child(cmd: list[str], env: dict, seconds: float, log_path: str):
    """A livegan child: -> (its own xrun count, error or None, (log offset at its STREAM_START line, at its
    STREAM_STOPPED line, seconds between them)): its window is its stream's life, as the C client's is,
    not its imports and model load."""
    start = stop = t_start = secs = None
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    result, other = None, []
    try:
        for line in p.stdout:  # read as the child prints: the log offset at each marker
            if line.startswith("STREAM_START"):
                start, t_start = os.path.getsize(log_path), time.monotonic()
            elif line.startswith("STREAM_STOPPED"):
                stop = os.path.getsize(log_path)
                secs = time.monotonic() - t_start if t_start is not None else None
            elif line.startswith("RESULT "):
                result = json.loads(line[7:])
            else:
                other.append(line)
        err = "".join(other[-40:])
        p.wait(timeout=seconds + 300)
    except subprocess.TimeoutExpired:
        p.kill()
        return None, "timed out", (start or 0, stop, secs)
    if p.returncode != 0 or result is None or start is None:
        return None, f"rc {p.returncode}: {err.strip()[-1500:]}", (start or 0, stop, secs)
    return result.get("xruns"), None, (start, stop, secs)


def run_block(args, model: str, bs: int, tmp: str) -> dict:
    """All rounds at one block size on one JACK dummy server; -> per-round results and the summary."""
    name = f"livegan-ab-{bs}-{os.getpid()}"
    log_path = os.path.join(tmp, f"jackd-{bs}.log")
    env = {**os.environ, "JACK_DEFAULT_SERVER": name, "JACK_NO_START_SERVER": "1"}
    cmds = client_commands(args, model, bs)
    with open(log_path, "ab") as log:
        jack, how = start_jack(name, bs, log)
    server = f"jackd -n {name} {how} -d dummy -r 48000 -p {bs}"
    print(f"block {bs}: server `{server}`, log {log_path}", flush=True)
    for c in args.ab_clients:
        print(f"  {c:5s}: JACK_DEFAULT_SERVER={name} JACK_NO_START_SERVER=1 {' '.join(cmds[c])}"
              + (f" (SIGTERM after {args.seconds:g} s)" if c == "c" else ""), flush=True)
    rounds, prev_end = [], os.path.getsize(log_path)
    try:
        for r in range(args.rounds):
            order = round_order(list(args.ab_clients), r)
            res, gaps = {}, 0
            for c in order:
                time.sleep(SETTLE_S)
                res[c] = run_client(cmds[c], env, args.seconds, log_path)
                gaps += len(xrun_names(log_path, prev_end, res[c]["log_bytes"][0]))
                prev_end = res[c]["log_bytes"][1]
            rounds.append({"round": r, "order": order, "clients": res, "xruns_between_clients": gaps})
            print(f"  round {r + 1}/{args.rounds}: " + ", ".join(_round_cell(c, res[c]) for c in order)
                  + f"; between clients {gaps}", flush=True)
    finally:
        stop_jack(jack)
    out = {"blocksize": bs, "jackd": server, "log": log_path, "audio": args.audio, "seconds": args.seconds,
           "commands": {c: cmds[c] for c in args.ab_clients}, "rounds": rounds}
    out["summary"] = summarize(rounds, list(args.ab_clients))
    return out


def _round_cell(c: str, r: dict) -> str:
    own = "" if r["own_xruns"] is None else f" (own {r['own_xruns']})"
    return f"{c} {r['jack_xruns']}{own}" + ("" if r["ok"] else f" FAILED: {r['error']}")


def summarize(rounds: list[dict], clients: list[str]) -> dict:
    """Per client: JACK xruns per round, their mean, the names JACK blamed; per livegan client: the paired
    excess over the C client (rounds where both ran to the end)."""
    s = {"clients": {}, "excess_over_c": {}}
    for c in clients:
        xs = [r["clients"][c]["jack_xruns"] for r in rounds]
        blamed = sorted({n for r in rounds for n in r["clients"][c]["blamed"]})
        own = [r["clients"][c]["own_xruns"] for r in rounds]
        win = [r["clients"][c]["window_s"] for r in rounds]
        s["clients"][c] = {"jack_xruns": xs, "mean": sum(xs) / len(xs) if xs else math.nan, "blamed": blamed,
                           "own_xruns": own, "window_s_mean": sum(win) / len(win) if win else math.nan,
                           "failed_rounds": [r["round"] for r in rounds if not r["clients"][c]["ok"]]}
    if "c" in clients:
        for c in clients:
            if c == "c":
                continue
            ok = [r for r in rounds if r["clients"][c]["ok"] and r["clients"]["c"]["ok"]]
            s["excess_over_c"][c] = paired_excess([r["clients"][c]["jack_xruns"] for r in ok],
                                                  [r["clients"]["c"]["jack_xruns"] for r in ok])
    return s


def print_summary(block: dict) -> None:
    bs, s = block["blocksize"], block["summary"]
    print(f"block {bs} ({bs / 48:.2f} ms), {len(block['rounds'])} rounds x {block['seconds']:g} s, audio "
          f"{block['audio']}: JACK xruns per round (each XRun line in a client's window is charged to it)")
    for c, v in s["clients"].items():
        own = "" if all(o is None for o in v["own_xruns"]) else f"; own count {v['own_xruns']}"
        print(f"  {c:5s}: {v['jack_xruns']} mean {v['mean']:.2f} in a {v['window_s_mean']:.1f} s window (the span "
              f"charged); JACK blamed {v['blamed'] or 'none'}{own}"
              + (f"; FAILED rounds {v['failed_rounds']}" if v["failed_rounds"] else ""))
    for c, e in s["excess_over_c"].items():
        ci = "n/a (under 2 rounds)" if e["ci95"] is None else f"[{e['ci95'][0]:+.2f}, {e['ci95'][1]:+.2f}]"
        print(f"  excess {c} - c: mean {e['mean']:+.2f} xruns per round, 95 % t interval {ci} over {e['n']} "
              f"paired rounds")
    print(f"  between clients (no client running): {[r['xruns_between_clients'] for r in block['rounds']]}",
          flush=True)


def run_ab(args, model: str, tmp: str) -> list[dict]:
    """Every block size in turn (one server each); prints each block's summary as it ends."""
    blocks = []
    for bs in args.blocks:
        block = run_block(args, model, bs, tmp)
        print_summary(block)
        blocks.append(block)
    return blocks
