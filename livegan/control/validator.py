"""Checks of parsed TOML values that name what is wrong: the file, the key, the problem.

Used by the patch parser (``livegan.control.patch``) and the set file's (``livegan.set_file``). Thread: main.
"""
from __future__ import annotations

import os
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from livegan.errors import FileKeyError, PatchError
from livegan.model import is_int, is_num


class Validator:
    """Checks for one file's parsed TOML; each failure raises ``error`` (PatchError unless told) naming the file,
    the key and the problem."""

    def __init__(self, path, error: type[FileKeyError] = PatchError):
        self.path = path
        self.error = error

    def bad(self, key, problem):
        raise self.error(self.path, key, problem)

    def keys(self, table, key, allowed):
        if not isinstance(table, dict):
            self.bad(key, f"must be a table, got {table!r}")
        for k in table:
            if k not in allowed:
                where = f"{key}.{k}" if key else k
                self.bad(where, f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def int_in(self, v, key, lo, hi):
        if not is_int(v) or not lo <= v <= hi:
            self.bad(key, f"must be an integer in [{lo}, {hi}], got {v!r}")
        return v

    def num_in(self, v, key, lo, hi):
        if not is_num(v) or not lo <= v <= hi:
            self.bad(key, f"must be a number in [{lo}, {hi}], got {v!r}")
        return float(v)

    def choice(self, v, key, options):
        if v not in options:
            self.bad(key, f"must be one of {', '.join(options)}, got {v!r}")
        return v

    def boolean(self, v, key):
        if not isinstance(v, bool):
            self.bad(key, f"must be true or false, got {v!r}")
        return v

    def notes(self, v, key):
        if not isinstance(v, list):
            self.bad(key, f"must be a list of note numbers, got {v!r}")
        for i, n in enumerate(v):
            self.int_in(n, f"{key}[{i}]", 0, 127)
        if len(set(v)) != len(v):
            self.bad(key, "lists a note twice")
        return list(v)


def read_toml(path: str, error: type[FileKeyError], max_bytes: int, what: str) -> dict:
    """Read one TOML file the user wrote (``what`` it should be: "a patch"); every problem is ``error`` naming
    the file: missing, a folder, too large, not UTF-8 (a BOM or UTF-16 is read), not TOML."""
    if os.path.isdir(path):
        raise error(path, "(file)", "is a folder, not a .toml file")
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except FileNotFoundError:
        raise error(path, "(file)", "no such file") from None
    except OSError as e:
        raise error(path, "(file)", f"cannot read it ({e.strerror or e})") from None
    if len(data) > max_bytes:
        raise error(path, "(file)", f"is larger than {max_bytes >> 20} MiB: not {what}")
    utf16 = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}.get(data[:2])
    body, skip = (data[2:], 2) if utf16 else (data, 0)
    try:  # editors on Windows write a BOM, some UTF-16: both are read
        text = body.decode(utf16 or "utf-8-sig")
    except UnicodeDecodeError as e:
        bad = body[e.start:e.start + 2].hex() or "end"
        raise error(path, "(encoding)", f"not {'UTF-16' if utf16 else 'UTF-8'} text (bytes {bad} at offset "
                                        f"{e.start + skip}); save it as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise error(path, "(syntax)", f"not valid TOML: {e}") from None
    except RecursionError:
        raise error(path, "(syntax)", "arrays or tables nested too deeply") from None
    except ValueError as e:  # an integer of 4300+ digits: Python refuses to convert it
        raise error(path, "(syntax)", f"not a usable TOML value ({str(e)[:80]})") from None
