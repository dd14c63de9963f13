"""The panel of a live set shows one line per track: its name, level, mute/solo, the loop playing and its
late loops, and which track the computer keyboard plays (one track only)."""
from __future__ import annotations

import math

from rich.console import Console

from livegan.io.panel import panel


def test_one_line_per_track_and_the_keys_on_the_selected_one():
    tracks = [{"index": 0, "name": "drums", "keys": False, "level_db": -6.0, "mute": False, "solo": True, "loop": 3,
               "late": 0},
              {"index": 1, "name": "bass", "keys": True, "level_db": -math.inf, "mute": True, "solo": False,
               "loop": 7, "late": 2}]
    con = Console(width=110, record=True)
    con.print(panel({"tracks": tracks}))
    text = con.export_text()
    lines = [ln for ln in text.splitlines() if "drums" in ln or "bass" in ln]
    assert len(lines) == 2, text
    drums, bass = lines
    assert "-6.0 dBFS" in drums and "-S" in drums and "loop 3" in drums and "keys" not in drums
    assert "-inf dBFS" in bass and "M-" in bass and "loop 7  late 2" in bass and "> 2 bass" in bass and "keys" in bass
    con2 = Console(width=110, record=True)
    con2.print(panel({}))
    assert "drums" not in con2.export_text()  # one model: no track lines
