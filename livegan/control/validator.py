"""Checks of parsed TOML values that name what is wrong: the file, the key, the problem.

Used by the patch parser (``livegan.control.patch``). Thread: main.
"""
from __future__ import annotations

from livegan.errors import PatchError
from livegan.model import is_int, is_num


class Validator:
    """Checks for one file's parsed TOML; each failure raises PatchError naming the file, the key and the problem."""

    def __init__(self, path):
        self.path = path

    def bad(self, key, problem):
        raise PatchError(self.path, key, problem)

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

    def notes(self, v, key):
        if not isinstance(v, list):
            self.bad(key, f"must be a list of note numbers, got {v!r}")
        for i, n in enumerate(v):
            self.int_in(n, f"{key}[{i}]", 0, 127)
        if len(set(v)) != len(v):
            self.bad(key, "lists a note twice")
        return list(v)
