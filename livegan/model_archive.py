"""The names in a model file's archive, held to those torch writes and its loader finds one way only.

torch's loader (``caffe2/serialize/inline_container.cc``) names the archive after the folder of its
first entry and finds every record by a case-insensitive lookup (miniz's, without its case-sensitive
flag), so a check that reads entries by exact name could judge other bytes than torch loads.
``check_entries`` refuses, before any entry is read: a second top folder, two names equal when ASCII
case is folded, any entry that is not one of the records the loader reads, an archive with no code.
``check_layout`` refuses a zip that two readers could place differently: bytes before the archive (Python's
zipfile shifts every offset by them, miniz does not), a comment after it, an entry count that
disagrees with the directory.

Thread: main (``livegan.model_code.check_model_code`` runs it first).
"""
from __future__ import annotations

import re
import struct


class ModelCodeError(Exception):
    """The archive, or its code, uses something off the allow-list; the message names it."""


# The records torch's loader reads, relative to the archive's folder, as torch.jit.save writes them
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_RECORDS = re.compile(rf"""(?x)
    data\.pkl | constants\.pkl | traced_inputs\.pkl | version | byteorder | \.data/version
  | \.data/serialization_id | data/[0-9]+ | constants/[0-9]+ | traced_inputs/[0-9]+
  | code/__torch__(/{_IDENT})*\.py(\.debug_pkl)?
  | extra/[A-Za-z0-9_][A-Za-z0-9_.-]*
""")


def check_entries(infos) -> None:
    """The archive's names are those torch writes and its loader finds, one way only (see the module's
    docstring): one top folder, named by the first entry as torch names it; names unique when compared
    as torch's lookup does (ASCII case folded); each one a record the loader reads; code present."""
    if not infos:
        raise ModelCodeError("is an empty archive")
    top = infos[0].orig_filename.split("/", 1)[0]
    seen: dict[str, str] = {}
    for info in infos:
        name = info.orig_filename
        shown = name.encode("unicode_escape").decode("ascii")[:80]
        if not name.isascii() or not name.isprintable():
            raise ModelCodeError(f"has an archive entry with an unusual name ({shown}); refused")
        head, _, rel = name.partition("/")
        if head != top or not rel:
            raise ModelCodeError(f"has an entry outside the archive's folder {top!r} ({shown}); refused")
        if not _RECORDS.fullmatch(rel):
            raise ModelCodeError(f"has an unexpected archive entry {rel!r}, which torch.jit.save does not write; "
                                 "refused")
        key = name.lower()  # torch's record lookup folds ASCII case: two such names are one record to it
        if key in seen:
            same = "the same name" if seen[key] == name else "names that differ only in case"
            raise ModelCodeError(f"has two archive entries with {same} ({shown}); refused")
        seen[key] = name
    rels = [n.partition("/")[2] for n in seen.values()]
    if "data.pkl" not in rels:
        raise ModelCodeError("has no data.pkl: not a TorchScript archive; refused")
    if not any(r.startswith("code/") and r.endswith(".py") for r in rels):
        raise ModelCodeError("has no code (no code/__torch__/*.py): not a TorchScript archive; refused")


_EOCD = struct.Struct("<4s4H2LH")  # end of central directory: sig, disks, counts, size, offset, comment length
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")


def check_layout(f, zf) -> None:
    """The central directory sits where the archive's own end record says, the record ends the file, and
    it counts the entries read: every reader then sees the same entries at the same offsets."""
    if zf.comment:
        raise ModelCodeError("has a zip comment, which torch.jit.save does not write; refused")
    f.seek(0, 2)
    size = f.tell()
    if size < _EOCD.size:
        raise ModelCodeError("is too short for a zip archive; refused")
    f.seek(size - _EOCD.size)
    sig, _, _, _, count, _, offset, _ = _EOCD.unpack(f.read(_EOCD.size))
    if sig != b"PK\x05\x06":
        raise ModelCodeError("does not end with a zip end record; refused")
    if offset == 0xFFFFFFFF or count == 0xFFFF:  # zip64: the real values are in the zip64 end record
        f.seek(size - _EOCD.size - _ZIP64_LOCATOR.size)
        lsig, _, where, _ = _ZIP64_LOCATOR.unpack(f.read(_ZIP64_LOCATOR.size))
        f.seek(where)
        rec = f.read(_ZIP64_EOCD.size)
        if lsig != b"PK\x06\x07" or len(rec) != _ZIP64_EOCD.size or rec[:4] != b"PK\x06\x06":
            raise ModelCodeError("has a broken zip64 end record; refused")
        _, _, _, _, _, _, _, count, _, offset = _ZIP64_EOCD.unpack(rec)
    if zf.start_dir != offset:
        raise ModelCodeError("has bytes before its archive (its directory is not where its end record says); "
                             "refused")
    if count != len(zf.infolist()):
        raise ModelCodeError(f"has {len(zf.infolist())} directory entries where its end record counts {count}; "
                             "refused")
