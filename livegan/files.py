"""Files the user names: checked before anything is written, and written so that nothing is lost.

One rule for every output a command writes (render, demo, wrap, export, ``--stats-json``, a learned
patch): the file is written under a temporary name beside the target (``.NAME.PID.part.EXT``: the same
folder, so the final move is a rename on one file system), checked there, and moved into place only
when it is complete and has passed its checks. A failed write or check leaves whatever was at the
target untouched and no temporary file behind. An existing target is refused (one line naming it)
unless the command was given ``--force``, and a target that is one of the command's own inputs (the
same file, through any link) is refused even with ``--force``.

Main thread.
"""
from __future__ import annotations

import contextlib
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


def same_file(a, b) -> bool:
    """Whether paths ``a`` and ``b`` name one file (through links, ``..`` or a second hard link)."""
    a, b = os.fspath(a), os.fspath(b)
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): compare where they resolve to
        return os.path.realpath(a) == os.path.realpath(b)


def check_target(path, what: str, force: bool = False, inputs=()) -> None:
    """CLIError (one line) if ``path`` is one of ``inputs`` (``(path, "what it is")`` pairs; refused even
    with ``force``: writing it would destroy what the command reads), or if it exists and ``force`` is
    not given. Nothing is written."""
    path = os.fspath(path)
    for src, name in inputs:
        if src is not None and same_file(path, src):
            raise CLIError(f"{what} {path}: is {name} this command reads; write to another name")
    if not force and os.path.lexists(path):
        raise CLIError(f"{what} {path}: exists; pass --force to replace it (or choose another name)")


def temp_beside(path) -> str:
    """``.NAME.PID.part.EXT`` in ``path``'s folder: hidden, this process's own, the extension kept (so
    libsndfile picks the same format)."""
    path = os.fspath(path)
    folder, name = os.path.split(os.path.abspath(path))
    ext = os.path.splitext(name)[1]
    return os.path.join(folder, f".{name}.{os.getpid()}.part{ext}")


def move_into_place(tmp: str, path: str, what: str, force: bool = False) -> None:
    """Rename the finished ``tmp`` to ``path``. Without ``force`` a file that appeared at ``path`` in
    the meantime is never replaced (CLIError; ``tmp`` is left to the caller): the name is taken by a
    hard link, which fails if the name exists, then ``tmp`` is removed; where the file system has no
    hard links (FAT, exFAT, some network shares) the name is checked just before the rename."""
    if force:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise CLIError(f"{what} {path}: appeared while it was being written; kept, and nothing written "
                       "(pass --force to replace it)") from None
    except OSError:  # no hard links here
        if os.path.lexists(path):
            raise CLIError(f"{what} {path}: appeared while it was being written; kept, and nothing written "
                           "(pass --force to replace it)") from None
        os.replace(tmp, path)
        return
    os.remove(tmp)


@contextlib.contextmanager
def output_file(path, what: str, force: bool = False, inputs=()):
    """``with output_file(OUT, "output", force) as tmp:`` write and check ``tmp``; when the block ends
    without an exception the file is moved to ``OUT`` (``move_into_place``). On any exception (a full
    disk, a failed check, Ctrl-C) ``tmp`` is removed and ``OUT`` is as it was. ``check_target`` runs
    first, so the refusals come before any work is written."""
    path = os.fspath(path)
    check_target(path, what, force, inputs)
    tmp = temp_beside(path)
    try:
        yield tmp
        move_into_place(tmp, path, what, force)
    finally:
        if os.path.lexists(tmp):
            os.remove(tmp)


def write_error(e: BaseException, path) -> OSError:
    """A failed audio write ``e`` as an OSError naming ``path`` and its cause (``strerror``). libsndfile
    reports an OS error (a full disk) only as "System error."; the errno of the failed call is cffi's
    ``errno``. soundfile itself only asserts on a short write."""
    import errno as errnos

    import soundfile as sf

    from livegan.errors import first_line

    if isinstance(e, OSError):
        return e if e.filename else OSError(e.errno, e.strerror or first_line(e), os.fspath(path))
    code = sf._ffi.errno
    if isinstance(e, sf.LibsndfileError) and "System error" in str(e) and code:
        return OSError(code, os.strerror(code), os.fspath(path))
    return OSError(errnos.EIO, first_line(e) if str(e) else "the write failed", os.fspath(path))


def free_name(path, taken=lambda p: os.path.lexists(p)) -> str:
    """``path``, or ``NAME-2.EXT``, ``-3``, ... : the first for which ``taken`` is false (as takes and
    saved loops are named)."""
    path = os.fspath(path)
    root, ext = os.path.splitext(path)
    k = 1
    while True:
        p = path if k == 1 else f"{root}-{k}{ext}"
        if not taken(p):
            return p
        k += 1
