"""The default patch is package data, so a non-editable install finds it (``livegan render`` and
``livegan perform`` without --patch); the checkout's top-level ``patches`` is the same folder."""
from __future__ import annotations

import os
import sys
from importlib.resources import files

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from livegan.control.patch import default_patch_path, load_patch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_default_patch_is_package_data():
    res = files("livegan") / "patches" / "generic.toml"
    assert res.is_file() and os.path.samefile(str(res), default_patch_path())
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        data = tomllib.load(f)["tool"]["setuptools"]["package-data"]["livegan"]
    assert "patches/*.toml" in data
    assert load_patch(default_patch_path()).name == "generic"
    assert os.path.samefile(os.path.join(ROOT, "patches", "generic.toml"), default_patch_path())
