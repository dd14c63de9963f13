"""``livegan.testing``'s docstring is the index of the folder: it names every module there, and only those.

The index is how a test or benchmark author finds the shared helpers (a Link peer, an OSC sender, a
JACK server of its own name); a module missing from it gets written twice.
"""
from __future__ import annotations

import os
import re

import livegan.testing


def test_testing_docstring_names_exactly_the_modules_in_the_folder():
    folder = os.path.dirname(livegan.testing.__file__)
    modules = {f[:-3] for f in os.listdir(folder) if f.endswith(".py") and f != "__init__.py"}
    listed = set(re.findall(r"^- ``(\w+)``:", livegan.testing.__doc__, re.M))
    assert listed == modules, f"missing from the index: {sorted(modules - listed)}; " \
                              f"listed but absent: {sorted(listed - modules)}"
