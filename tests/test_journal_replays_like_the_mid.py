"""The take's journal gives the same automation as the ``.mid`` written at stop, survives a torn last
line, and a file that is not a journal is refused with one line (``livegan render`` exit code 2)."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from livegan.errors import CLIError
from livegan.io.journal import Journal, read_journal, read_journal_rows
from livegan.io.perflog import PerfLog, read_perflog


def _random_log(rng, rate, n):
    log = PerfLog(rate)
    frames = np.sort(rng.integers(0, 20 * rate, n))
    for f in frames:
        k = rng.integers(0, 6)
        if k == 0:
            log.tempo(int(f), float(rng.integers(20000, 400000)) / 1000)
        elif k == 1:
            log.locate(int(f), float(rng.integers(0, 10 ** 8)) / 1e6, int(f))
        elif k == 2:
            log.running(int(f), bool(rng.integers(0, 2)))
        elif k == 3:
            log.log(int(f), [0xFA + int(rng.integers(0, 3))])
        else:
            log.log(int(f), [0xB0 | int(rng.integers(0, 16)), int(rng.integers(0, 128)), int(rng.integers(0, 128))])
    return log


def _same(a, b):
    assert [(f, str(m)) for f, m in a] == [(f, str(m)) for f, m in b]


@pytest.mark.parametrize("seed,rate,take_start", [(0, 48000, 0), (1, 44100, 96000), (2, 96000, 0), (3, 22050, 5)])
def test_journal_reads_back_as_the_mid_its_take_writes_at_stop(tmp_path, seed, rate, take_start):
    rng = np.random.default_rng(seed)
    log = _random_log(rng, rate, 50)
    j = Journal(str(tmp_path / "t.journal"), log, take_start)
    for f in range(0, 40 * rate, 2 * rate):  # events logged while the take records, flushed as it goes
        log.log(f + 7, [0x90, 60, 100])
        j.flush()
    j.close(remove=False)
    log.save(tmp_path / "t.mid", take_start=take_start)
    _same(read_journal(tmp_path / "t.journal", 48000), read_perflog(tmp_path / "t.mid", 48000))


def test_a_line_torn_by_the_crash_is_ignored(tmp_path):
    log = PerfLog(48000)
    log.log(100, [0xB0, 20, 64])
    j = Journal(str(tmp_path / "t.journal"), log, 0)
    j.close(remove=False)
    with open(tmp_path / "t.journal", "a") as f:
        f.write("4800 17")  # no newline: the write the SIGKILL cut
    assert read_journal_rows(tmp_path / "t.journal")[2].tolist() == [[100, 0xB0, 20, 64]]


GARBAGE = {
    "empty": b"",
    "random bytes": bytes(np.random.default_rng(5).integers(0, 256, 4000, dtype=np.uint8)),
    "pickle": pickle.dumps({"a": 1}) + b"\n",
    "a MIDI file": b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x03\xc0\n",
    "wrong version": b"livegan journal 2 rate 48000 take 0\n",
    "no rate": b"livegan journal 1\n",
    "rate zero": b"livegan journal 1 rate 0 take 0\n",
    "text row": b"livegan journal 1 rate 48000 take 0\n1 2 3\n",
    "float row": b"livegan journal 1 rate 48000 take 0\n100 176 20.5 64\n",
    "code row": b"livegan journal 1 rate 48000 take 0\n__import__('os').system('x') 1 2 3\n",
    "huge frame": b"livegan journal 1 rate 48000 take 0\n99999999999999999999999 176 20 64\n",
    "bad status": b"livegan journal 1 rate 48000 take 0\n100 5 20 64\n",
    "data byte 200": b"livegan journal 1 rate 48000 take 0\n100 176 200 64\n",
    "long line": b"livegan journal 1 rate 48000 take 0\n" + b"1" * 5000 + b"\n",
}


@pytest.mark.parametrize("name", list(GARBAGE))
def test_garbage_is_one_line_naming_the_file(tmp_path, name):
    path = tmp_path / "t.journal"
    path.write_bytes(GARBAGE[name])
    with pytest.raises(CLIError) as e:
        read_journal_rows(path)
    msg = str(e.value)
    assert msg.startswith(f"journal {path}: line ") and "\n" not in msg and len(msg) < 300, msg


def test_render_refuses_a_garbage_journal_with_one_line_and_exit_2(tmp_path, cli):
    path = tmp_path / "t.journal"
    path.write_bytes(GARBAGE["random bytes"])
    r = cli("render", "--automation", path, "--seconds", "1", "-o", tmp_path / "o.wav")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and f"journal {path}" in r.stderr, r.stderr
    assert not (tmp_path / "o.wav").exists()


def test_render_of_a_missing_mid_points_at_the_unfinished_takes_journal(tmp_path, cli):
    (tmp_path / "t.journal").write_bytes(b"livegan journal 1 rate 48000 take 0\n")
    r = cli("render", "--automation", tmp_path / "t.mid", "--seconds", "1", "-o", tmp_path / "o.wav")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and f"--automation {tmp_path / 't.journal'}" in r.stderr
