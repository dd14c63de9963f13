"""Every report carries hiss, bandwidth and knob-0 morph smoothness, and the spectrogram figure; a generator
whose knob directions cannot be found still gets its report, with morph smoothness nan and a warning."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from livegan.cli import main
from livegan.testing.synth import write_loop_folder
from train import band_metrics, report

SOUND_KEYS = ("hiss", "hiss_train", "high_band_db", "high_band_db_train", "bandwidth_db",
              "morph_smoothness", "morph_max_step", "morph_median_random")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("loops")
    write_loop_folder(folder, 3, sr=22050, kinds=("bass",))
    out = tmp_path_factory.mktemp("runs") / "run"
    assert main(["train", str(folder), "--preset", "paper", "--out", str(out), "--steps", "2", "--device", "cpu",
                 "--set", "model_dim=2", "--set", "preview_every=0"]) == 0
    return out


def test_report_writes_the_spectrograms_and_the_sound_metrics(run):
    assert (run / "report" / "spectrograms.png").stat().st_size > 10_000
    page = (run / "report.html").read_text()
    assert "report/spectrograms.png" in page and "morph_smoothness" in page
    m = json.loads((run / "metrics.json").read_text())
    for key in SOUND_KEYS + ("fd", "ndb_k", "nn_ratio", "coverage", "seam", "copy_xcorr"):
        assert key in m, key
    assert np.isfinite(m["morph_smoothness"]) and m["morph_median_random"] > 0
    assert np.isnan(m["hiss"])  # the paper preset plays at 2048 Hz: no 2-7 kHz to judge
    assert m["high_band_db"] == band_metrics.HIGH_BAND_FLOOR_DB


def test_report_survives_a_generator_whose_directions_cannot_be_found(run, monkeypatch):
    def no_head(*args, **kwargs):
        raise AttributeError("'SpectralGenerator' object has no attribute 'head'")

    monkeypatch.setattr(report, "ganspace", no_head)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = report.write_report(str(run), quiet=True)
    assert np.isnan(m["morph_smoothness"]) and np.isfinite(m["fd"])
    assert any("morph smoothness" in str(w.message) and "head" in str(w.message) for w in caught)
    assert (run / "report.html").is_file()
