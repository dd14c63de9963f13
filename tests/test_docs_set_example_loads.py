"""The set file example in docs/sets.md is one a new user can copy: it loads (its own model and patch
files, which a reader replaces, swapped for the built-in ones) with the values the docs say."""
from __future__ import annotations

import os
import re

from livegan.set_file import load_set

DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "sets.md")


def test_the_documented_set_loads(tmp_path):
    text = open(DOC, encoding="utf-8").read()
    block = re.search(r"```toml\n(.*?)```", text, re.S).group(1)
    block = block.replace('"models/my-loops.ts"', '"builtin:beats"').replace(
        'patch = "patches/my-controller.toml"', "")
    (tmp_path / "my-set.toml").write_text(block)
    s = load_set(tmp_path / "my-set.toml")
    assert [t.name for t in s.tracks] == ["drums", "loops", "pad"]
    assert [t.channel for t in s.tracks] == [1, 2, 3]
    assert (s.limiter, s.tracks[1].gain_db, s.tracks[2].pan) == (True, -4.0, 0.5)
