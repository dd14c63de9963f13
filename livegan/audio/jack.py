"""The running JACK server's period, asked of libjack directly (ctypes), so the default block size can
follow it: a callback whose block is the server's period gets one call per JACK cycle, with no
buffering between them.

Main thread, before the stream opens. Never starts a server (``JackNoStartServer``), never raises:
``None`` means no libjack or no server.
"""
from __future__ import annotations

import ctypes
import ctypes.util

JACK_NO_START_SERVER = 0x01  # jack_options_t: never spawn a server
JACK_SERVER_NAME = 0x04  # jack_options_t: the next vararg is the server's name
DEFAULT_BLOCKSIZE = 256  # frames, when the output is not JACK or its period is unknown
BLOCKSIZE_RANGE = (16, 8192)  # what `perform --blocksize` accepts


def _libjack():
    """libjack, loaded once (the same library PortAudio's JACK host API uses), or None."""
    name = ctypes.util.find_library("jack") or "libjack.so.0"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    lib.jack_client_open.restype = ctypes.c_void_p  # variadic: argtypes are given per call
    lib.jack_get_buffer_size.argtypes = [ctypes.c_void_p]
    lib.jack_get_buffer_size.restype = ctypes.c_uint32
    lib.jack_client_close.argtypes = [ctypes.c_void_p]
    lib.jack_client_close.restype = ctypes.c_int
    return lib


def jack_period(server: str | None = None) -> int | None:
    """Frames per period of the JACK server named ``server`` (default: ``$JACK_DEFAULT_SERVER``, else the
    default server); None when libjack is missing or that server is not running. Never starts one."""
    try:
        lib = _libjack()
        if lib is None:
            return None
        status = ctypes.c_int(0)
        if server is None:
            client = lib.jack_client_open(b"livegan-period", ctypes.c_int(JACK_NO_START_SERVER), ctypes.byref(status))
        else:
            client = lib.jack_client_open(b"livegan-period", ctypes.c_int(JACK_NO_START_SERVER | JACK_SERVER_NAME),
                                          ctypes.byref(status), ctypes.c_char_p(server.encode()))
        if not client:
            return None
        try:
            period = int(lib.jack_get_buffer_size(ctypes.c_void_p(client)))
        finally:
            lib.jack_client_close(ctypes.c_void_p(client))
        return period if period > 0 else None
    except Exception:  # a broken libjack must not stop the show from starting: the default block size stands
        return None


def default_blocksize(hostapi_name: str, server: str | None = None) -> int:
    """``perform``'s block size when none is given: the JACK period when the output's host API is JACK
    (and the period is known and one ``--blocksize`` accepts), else ``DEFAULT_BLOCKSIZE``."""
    if "JACK" not in (hostapi_name or "").upper():
        return DEFAULT_BLOCKSIZE
    period = jack_period(server)
    if period is None or not BLOCKSIZE_RANGE[0] <= period <= BLOCKSIZE_RANGE[1]:
        return DEFAULT_BLOCKSIZE
    return period
