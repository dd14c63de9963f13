"""The take's journal gives the same automation as the ``.mid`` written at stop, survives a torn last
line, keeps every good row around bad ones (skipped with one warning saying how many and where), and a
file that is not a journal is refused with one line (``livegan render`` exit code 2)."""
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
    "take past a MIDI file": b"livegan journal 1 rate 48000 take 99999999999999\n",
}
BAD_ROWS = {  # a line each: none is an event PerfLog writes, or one a MIDI file can hold
    "text row": b"1 2 3",
    "float row": b"100 176 20.5 64",
    "code row": b"__import__('os').system('x') 1 2 3",
    "huge frame": b"99999999999999999999999 176 20 64",
    "frame past a MIDI file": b"1000000000000 176 20 64",  # refused by the reader as a delta of > 4 bytes
    "bad status": b"100 5 20 64",
    "sysex status": b"100 240 1 2",  # MidiFileError traceback in render before
    "status 0xff": b"100 255 1 2",
    "song position": b"100 242 1 2",
    "data byte 200": b"100 176 200 64",
    "tempo marker 16 BPM": b"100 256 1 2",
    "tempo marker 0": b"100 256 0 0",
    "run 2": b"100 258 2 0",
    "locate to a negative frame": b"100 257 5 -1",
    "long line": b"1" * 5000,
    "escape sequence": b"\x1b[2J 176 20 64",
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


def test_bad_rows_are_skipped_and_every_good_row_kept(tmp_path):
    """Each bad line among the rows of a real take: the events are exactly those of the .mid the take
    writes without it, and one warning counts the bad lines and names the first."""
    log = _random_log(np.random.default_rng(7), 48000, 40)
    j = Journal(str(tmp_path / "t.journal"), log, 0)
    j.close(remove=False)
    log.save(tmp_path / "t.mid")
    want = read_perflog(tmp_path / "t.mid", 48000)
    lines = (tmp_path / "t.journal").read_bytes().split(b"\n")  # header, 40 rows, ""
    bad = list(BAD_ROWS.values())
    mixed = lines[:11] + bad + lines[11:]  # the first bad line is line 12
    (tmp_path / "bad.journal").write_bytes(b"\n".join(mixed))
    said = []
    got = read_journal(tmp_path / "bad.journal", 48000, warn=said.append)
    _same(got, want)
    assert said == [f"skipped {len(bad)} bad lines of {tmp_path / 'bad.journal'} (first at line 12)"]


@pytest.mark.parametrize("name", list(BAD_ROWS))
def test_one_bad_row_alone_is_skipped_not_refused(tmp_path, name):
    path = tmp_path / "t.journal"
    path.write_bytes(b"livegan journal 1 rate 48000 take 0\n100 176 20 64\n" + BAD_ROWS[name] + b"\n")
    said = []
    rate, start, rows = read_journal_rows(path, warn=said.append)
    assert rows.tolist() == [[100, 0xB0, 20, 64]]
    assert said == [f"skipped 1 bad line of {path} (first at line 3)"]
    assert [m.bytes() for _, m in read_journal(path, 48000, warn=said.append)] == [[0xB0, 20, 64]]


def test_render_of_a_journal_with_bad_rows_warns_once_and_renders(tmp_path, cli, tiny_model):
    path = tmp_path / "t.journal"
    rows = b"".join(BAD_ROWS[k] + b"\n" for k in ("sysex status", "huge frame", "tempo marker 0"))
    path.write_bytes(b"livegan journal 1 rate 48000 take 0\n100 176 20 64\n" + rows + b"4800 176 20 90\n")
    r = cli("render", "--model", tiny_model, "--automation", path, "--seconds", "0.5", "-o", tmp_path / "o.wav")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    said = [ln for ln in r.stderr.splitlines() if "journal" in ln or str(path) in ln]
    assert said == [f"livegan render: warning: skipped 3 bad lines of {path} (first at line 3)"], r.stderr
    assert (tmp_path / "o.wav").stat().st_size > 0
