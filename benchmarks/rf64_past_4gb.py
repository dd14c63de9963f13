"""A live take past 4 GB: written through the recorder's own file path (``open_for_recording``,
``_write``, the header rewritten after each 2 MiB block as the writer thread does), left without
``close()`` as a SIGKILL leaves it, then read back: the header must say RF64 and hold every frame.
Writes about 4.4 GB to FOLDER (default: the system's temporary folder) and removes it. Run:
    python benchmarks/rf64_past_4gb.py [FOLDER]
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WRITER = r"""
import os, sys, time
import numpy as np
import soundfile as sf
from livegan.io.recorder import SFC_UPDATE_HEADER_NOW, _write, open_for_recording
f = open_for_recording(sys.argv[1], 48000, 2)
block = np.full((1 << 18, 2), 0.25, np.float32)
n, t0 = 0, time.monotonic()
while n * 8 < 4.4e9:
    assert _write(f, block) == block.shape[0]
    n += block.shape[0]
    sf._snd.sf_command(f._file, SFC_UPDATE_HEADER_NOW, sf._ffi.NULL, 0)
print(n, round(time.monotonic() - t0, 1), flush=True)
os._exit(0)  # no close(): what a SIGKILL leaves
"""


def main(argv=None) -> int:
    import numpy as np
    import soundfile as sf

    folder = (argv or sys.argv[1:] or [tempfile.gettempdir()])[0]
    path = os.path.join(folder, f"livegan-rf64-{os.getpid()}.wav")
    try:
        r = subprocess.run([sys.executable, "-c", WRITER, path], capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": ROOT}, check=True)
        frames, secs = r.stdout.split()
        info = sf.info(path)
        with open(path, "rb") as f:
            magic = f.read(4)
        with sf.SoundFile(path) as f:
            f.seek(info.frames - 1000)
            tail_ok = bool(np.all(f.read(1000, dtype="float32") == 0.25))
        print(f"wrote {int(frames)} frames ({os.path.getsize(path) / 1e9:.2f} GB) in {secs} s, no close(); "
              f"header {magic.decode()}, {info.format}, {info.frames} frames read back, last 1000 intact: {tail_ok}")
        return 0 if magic == b"RF64" and info.frames == int(frames) and tail_ok else 1
    finally:
        if os.path.exists(path):
            os.remove(path)


if __name__ == "__main__":
    sys.exit(main())
