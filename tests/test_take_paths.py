"""Take file names: --record OUT.wav gives OUT.wav, OUT-2.wav, ...; without it, time-stamped names;
an existing file is never overwritten."""
from __future__ import annotations

import os

from livegan.io.takes import take_path


def test_takes_after_record_are_numbered_and_never_overwrite(tmp_path):
    first = str(tmp_path / "set.wav")
    assert take_path(first, 1) == first
    assert take_path(first, 2) == str(tmp_path / "set-2.wav")
    (tmp_path / "set-3.wav").write_bytes(b"")
    p = take_path(first, 3)
    assert p != str(tmp_path / "set-3.wav") and not os.path.exists(p) and p.endswith(".wav")


def test_takes_without_record_are_time_stamped_in_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    a = take_path(None, 1)
    assert a.startswith("livegan-") and a.endswith(".wav") and not os.path.exists(a)
    open(a, "wb").close()
    b = take_path(None, 2)  # same second: a suffix keeps them apart
    assert b != a and not os.path.exists(b)
