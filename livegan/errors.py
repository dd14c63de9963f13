"""The errors a user can fix: each is printed by ``livegan.cli`` as one line, exit code 2.

Any module may raise them; this module imports nothing of livegan's, so raising
one never pulls in the command line or a domain module.
"""
from __future__ import annotations

import contextlib


class CLIError(Exception):
    """An error the user can fix: printed as one line, exit code 2."""


class FileKeyError(CLIError):
    """A TOML file the user wrote breaks its schema; the message names the file, the key and the problem."""

    def __init__(self, path, key: str, problem: str):
        self.path, self.key, self.problem = str(path), key, problem
        super().__init__(f"{self.path}: {key}: {problem}")


class PatchError(FileKeyError):
    """A patch breaks the schema (``livegan.control.patch``)."""


class SetError(FileKeyError):
    """A set file breaks the schema (``livegan.set_file``); the key names the track and the field."""


class ModelFileError(Exception):
    """A model file breaks the contract; the message names the file and the problem."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


def shown(path: str) -> str:
    """``path`` printable on any terminal: undecodable bytes and control characters (escape sequences)
    written as backslash escapes, so the name printed is still the file's."""
    text = path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def first_line(e: BaseException, limit: int | None = 200) -> str:
    """An exception's first non-empty line, at most ``limit`` characters (None: all) (its type's name if it says
    nothing): a library's multi-line message or C++ trace, reduced to the project's one-line error."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    return (lines[0] if lines else type(e).__name__)[:limit]


@contextlib.contextmanager
def user_input(*kinds: type):
    """Around the code that checks what the user gave (options, a preset, a folder, a file): an
    exception of ``kinds`` (default KeyError, ValueError, OSError) becomes a ``CLIError`` line with its
    message; the same exception anywhere else stays a bug, with its traceback. The original is kept
    as the cause (``LIVEGAN_DEBUG=1`` prints it: ``livegan.cli``)."""
    caught = kinds or (KeyError, ValueError, OSError)
    try:
        yield
    except caught as e:
        raise CLIError(str(e).strip("'\"")) from e
