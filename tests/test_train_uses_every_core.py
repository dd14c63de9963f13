"""Training uses every physical core unless told otherwise: no cap at two threads on a bigger machine."""
from __future__ import annotations

import json
import subprocess
import sys

# a fresh interpreter: torch's default thread count there is the machine's physical cores, which this
# test process (one thread for every test) no longer shows
PROBE = """
import dataclasses, json, torch
fresh = torch.get_num_threads()
from train import trainer
from train.presets import spectral
trainer._open_process(dataclasses.replace(spectral(), threads=0), "cpu")
every = torch.get_num_threads()
trainer._open_process(dataclasses.replace(spectral(), threads=3), "cpu")
print(json.dumps([fresh, every, torch.get_num_threads()]))
"""


def test_threads_zero_means_every_physical_core_and_a_number_is_taken_as_given():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True)
    fresh, every, three = json.loads(out.stdout.strip().splitlines()[-1])
    assert every == fresh
    assert three == 3  # more than two: no cap
