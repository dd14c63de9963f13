"""Named knobs meet patches: the warning for a name the model lacks, and the generic patch on a model
with named knobs.

A model's ``livegan.json`` may name directions (``knobs``: brightness, weight, ...;
``livegan.model_knobs``). A patch knob says ``direction = "brightness"`` to play one
(``livegan.control.patch.check_against_model`` resolves it). The generic patch (the one used when no
``--patch`` is given: ``livegan.control.patch.default_patch_path``) has eight direction knobs, CC 20-27;
on a model with named knobs they go to the named knobs first, in the model's order, then to the
numbered directions 1, 2, ... in the slots left. The mapping is a function of the patch file and the
model alone, so a take re-rendered with the same model and patch maps every CC as it played.

Thread: main (before the show).
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace

from livegan.control.patch import Patch, default_patch_path


def is_generic(patch: Patch) -> bool:
    """Whether ``patch`` was loaded from the shipped generic patch (with or without ``--patch`` naming it)."""
    try:
        return os.path.realpath(patch.path) == os.path.realpath(default_patch_path())
    except (OSError, ValueError):  # a path with a NUL, an odd name: not the shipped file
        return False


def generic_for_model(patch: Patch, names: Sequence[str]) -> Patch:
    """The generic patch on a model with named knobs ``names``: its direction knobs, in file order, play
    the named knobs first, then numbered directions 1, 2, ...; labels are left to the panel (the name,
    or "dir N"). Any other patch, or a model without names, is returned as it is (the same object)."""
    if not names or not is_generic(patch):
        return patch
    knobs, slot = [], 0
    for k in patch.knobs:
        if k.effect is not None:
            knobs.append(k)
            continue
        if slot < len(names):
            knobs.append(replace(k, direction=None, direction_name=names[slot], name=""))
        else:
            knobs.append(replace(k, direction=slot - len(names), direction_name=None, name=""))
        slot += 1
    return replace(patch, knobs=knobs)
