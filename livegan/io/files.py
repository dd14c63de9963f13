"""Files the user names: checked before anything is written. Main thread."""
from __future__ import annotations

import os

from livegan.errors import CLIError


def check_writable(path, what: str, new_file: bool = False) -> None:
    """Raise CLIError (one line naming ``what`` and ``path``) unless ``path`` can be written: not a
    folder, in a folder that exists and takes new files. Probes by creating (and removing) a
    temporary file, and by opening an existing file for append (not with ``new_file``: a caller that
    never overwrites picks another name), so a read-only file system or a root user's view of
    permissions cannot fool it; nothing already there is changed."""
    import tempfile

    path = os.fspath(path)
    if os.path.isdir(path):
        raise CLIError(f"{what} {path}: is a folder, not a file name")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CLIError(f"{what} {path}: folder {folder} does not exist")
    try:
        if os.path.exists(path) and not new_file:
            with open(path, "ab"):
                pass
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".livegan-probe-"):
            pass
    except OSError as e:
        raise CLIError(f"{what} {path}: cannot write there ({e.strerror or e})") from None
