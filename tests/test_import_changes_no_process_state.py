"""Importing livegan changes no process-wide state: no warning filter, no environment variable.

A library that edits the warning filters or ``os.environ`` when imported changes the behaviour of
whatever program imports it (a DAW script, a notebook, another test suite). The two settings
livegan needs are set where they are needed: torch's jit DeprecationWarning is silenced only
around the jit calls (``livegan.model.jit_quiet``), and ``PYO_GUI_WX`` only around pyo's own
import (``livegan.audio.fx``). The second test keeps what the filter was for.
"""
from __future__ import annotations

import json
import subprocess
import sys
import warnings

MODULES = ["livegan.model", "livegan.audio.fx", "livegan.audio.admit", "livegan.performance", "livegan.cli",
           "train.export", "train.wrap", "livegan.testing.faulty_models"]

# Third-party packages add filters of their own when imported (numpy, torch): imported first.
PROBE = """
import json, os, sys, warnings
import numba, numpy, scipy, torch
before = (repr(warnings.filters), dict(os.environ))
for m in sys.argv[1:]:
    __import__(m)
after = (repr(warnings.filters), dict(os.environ))
env = sorted(k for k in set(before[1]) | set(after[1]) if before[1].get(k) != after[1].get(k))
print(json.dumps({"filters_same": before[0] == after[0], "env_changed": env}))
"""


def test_importing_livegan_leaves_warning_filters_and_environment_alone():
    env = {k: v for k, v in __import__("os").environ.items() if k != "PYO_GUI_WX"}
    out = subprocess.run([sys.executable, "-c", PROBE, *MODULES], capture_output=True, text=True,
                         timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["filters_same"], "importing livegan added a warning filter"
    assert res["env_changed"] == [], f"importing livegan set {res['env_changed']}"


def test_loading_a_model_file_shows_no_jit_deprecation_warning(tiny_model):
    from livegan.model import LoopModel

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        LoopModel(str(tiny_model))
    jit = [str(w.message) for w in seen if "torch.jit" in str(w.message)]
    assert jit == [], jit


def test_pyo_is_imported_without_its_wx_gui_and_the_variable_is_put_back():
    env = {k: v for k, v in __import__("os").environ.items() if k != "PYO_GUI_WX"}
    code = ("import os, sys; from livegan.audio import fx; pyo = fx._import_pyo(); "
            "from pyo.lib import _widgets; "
            "print(json.dumps([_widgets.use_wx, 'PYO_GUI_WX' in os.environ]))")
    out = subprocess.run([sys.executable, "-c", "import json; " + code], capture_output=True, text=True,
                         timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    use_wx, left = json.loads(out.stdout.strip().splitlines()[-1])
    assert use_wx in (0, False) and left is False
