"""Malformed input to `livegan train` and `livegan export`: exit code 2, exactly one line on stderr that
names the bad thing (option, preset field, folder), no traceback; and a data folder holding a dangling
link, a FIFO, a broken file and a file name that is not UTF-8 beside good loops still trains, its table
saying what was skipped and why."""
from __future__ import annotations

import json
import os

import pytest
import soundfile as sf
import torch

from livegan.cli import main
from livegan.testing.synth import write_loop_folder

TINY = ["--preset", "paper", "--steps", "2", "--device", "cpu", "--set", "model_dim=2", "--set", "report=false",
        "--set", "preview_every=0", "--set", "checkpoint_every=0", "--set", "n_val=4"]

# (id, extra command-line arguments, what the one stderr line must name)
TRAIN_CASES = [
    ("batch_size-0", ["--set", "batch_size=0"], "batch_size"),
    ("batch_size-negative", ["--set", "batch_size=-3"], "batch_size"),
    ("batch_size-fraction", ["--set", "batch_size=2.5"], "batch_size"),
    ("batch_size-word", ["--set", "batch_size=many"], "batch_size"),
    ("batch_size-1e9", ["--set", "batch_size=1e9"], "batch_size"),  # tried to allocate 16 TB: a traceback
    ("sample_rate-0", ["--set", "sample_rate=0"], "sample_rate"),
    ("sample_rate-negative", ["--set", "sample_rate=-48000"], "sample_rate"),
    ("loop_samples-0", ["--set", "loop_samples=0"], "loop_samples"),
    ("loop_samples-not-whole-layers", ["--set", "loop_samples=4100"], "loop_samples"),
    ("loop-tempo-out-of-range", ["--set", "sample_rate=96000"], "loop_samples"),
    ("loop-tempo-above-what-the-engine-plays", ["--set", "sample_rate=65536"], "20-400 BPM"),  # 480 BPM
    ("bpm-480", ["--set", "bpm=480"], "bpm"),
    ("bpm-15", ["--set", "bpm=15"], "bpm"),
    ("model_dim-0", ["--set", "model_dim=0"], "model_dim"),
    ("latent_dim-0", ["--set", "latent_dim=0"], "latent_dim"),
    ("kernel-below-stride", ["--set", "kernel=1", "--set", "stride=4", "--set", "n_layers=3"], "kernel"),
    ("stride-1", ["--set", "stride=1"], "stride"),
    ("n_layers-0", ["--set", "n_layers=0"], "n_layers"),
    ("phase_shuffle-longer-than-layer", ["--set", "phase_shuffle=5000"], "phase_shuffle"),
    ("lr-nan", ["--set", "lr=nan"], "lr"),
    ("lr-inf", ["--set", "lr=inf"], "lr"),
    ("lr-0", ["--set", "lr=0"], "lr"),
    ("beta2-1", ["--set", "beta2=1"], "beta2"),
    ("n_critic-0", ["--set", "n_critic=0"], "n_critic"),
    ("n_val-0", ["--set", "n_val=0"], "n_val"),
    ("seed-negative", ["--set", "seed=-1"], "seed"),
    ("threads-negative", ["--set", "threads=-1"], "threads"),  # 0 is fine: every physical core
    ("max_seconds-negative", ["--set", "max_seconds=-5"], "max_seconds"),
    ("channels-3", ["--set", "channels=3"], "channels"),
    ("bool-not-bool", ["--set", "seam_roll=maybe"], "seam_roll"),
    ("choice-unknown", ["--set", "arch=resnet"], "arch"),
    ("field-of-another-arch", ["--set", "hop=441"], "hop"),  # a spectral field: the paper's preset has none
    ("arch-own-field-range", ["--set", "arch=spectral", "--set", "hop=0"], "hop"),
    ("name-empty", ["--set", "name="], "name"),
    ("minibatch_std-batch-of-one", ["--set", "minibatch_std=true", "--set", "batch_size=1"], "batch_size"),
    ("pack-not-dividing-batch", ["--set", "pack=3"], "pack"),
    ("shift_quantum-too-fine", ["--set", "shift_augment=true", "--set", "shift_quantum=5000"], "shift_quantum"),
    ("unknown-field", ["--set", "no_such_field=1"], "no_such_field"),
    ("malformed-pair", ["--set", "batch_size"], "batch_size"),
    ("empty-key", ["--set", "=4"], "=4"),
    ("steps-0", ["--steps", "0"], "steps"),
    ("steps-negative", ["--steps", "-1"], "steps"),
    ("unknown-preset", ["--preset", "nope"], "nope"),
    ("unknown-device", ["--device", "tpu"], "tpu"),
    ("mps-missing", ["--device", "mps"], "mps"),
]


@pytest.fixture(scope="module")
def loops(tmp_path_factory):
    folder = tmp_path_factory.mktemp("loops")
    write_loop_folder(folder, 2, sr=8192, kinds=("bass",))
    return folder


def _one_line(capsys, rc, names):
    err = capsys.readouterr().err
    assert rc == 2, err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err and names in err, err
    return err


@pytest.mark.parametrize("extra,names", [c[1:] for c in TRAIN_CASES], ids=[c[0] for c in TRAIN_CASES])
def test_bad_train_option_is_one_line_naming_it(extra, names, loops, tmp_path, capsys):
    args = ["train", str(loops), "--out", str(tmp_path / "run"), *TINY, *extra]
    # argparse takes the last --preset / --steps / --device: a case's own value wins over TINY's
    _one_line(capsys, main(args), names)
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here: --device cuda is not bad input")
def test_cuda_without_cuda_is_one_line(loops, tmp_path, capsys):
    _one_line(capsys, main(["train", str(loops), "--out", str(tmp_path / "run"), *TINY, "--device", "cuda"]), "cuda")


def test_a_cuda_index_this_machine_lacks_is_one_line_naming_it(loops, tmp_path, capsys):
    """Named as asked (``cuda:99``), not as ``cuda``; refused with CUDA or without it."""
    _one_line(capsys, main(["train", str(loops), "--out", str(tmp_path / "run"), *TINY, "--device", "cuda:99"]),
              "--device cuda:99")


def _folder_cases(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    dangling = tmp_path / "dangling"
    dangling.mkdir()
    os.symlink(tmp_path / "gone.wav", dangling / "loop.wav")
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEnot audio")
    (junk / "notes.txt").write_text("no audio")
    return {"missing": tmp_path / "missing", "empty": empty, "dangling": dangling, "junk": junk,
            "file": junk / "notes.txt"}


@pytest.mark.parametrize("case", ["missing", "empty", "dangling", "junk", "file"])
def test_data_folder_without_usable_audio_is_one_line(case, tmp_path, capsys):
    folder = _folder_cases(tmp_path)[case]
    rc = main(["train", str(folder), "--out", str(tmp_path / "run"), *TINY])
    err = _one_line(capsys, rc, str(folder))
    assert "no usable audio" in err or "not a folder" in err


def test_out_that_is_a_file_is_one_line(loops, tmp_path, capsys):
    out = tmp_path / "run"
    out.write_text("not a folder")
    _one_line(capsys, main(["train", str(loops), "--out", str(out), *TINY]), str(out))


def test_resume_without_checkpoint_is_one_line(loops, tmp_path, capsys):
    rc = main(["train", str(loops), "--out", str(tmp_path / "run"), *TINY, "--resume"])
    _one_line(capsys, rc, str(tmp_path / "run"))


@pytest.mark.parametrize("case", ["missing", "empty"])
def test_export_of_a_missing_or_empty_run_folder_is_one_line(case, tmp_path, capsys):
    run = tmp_path / "run"
    if case == "empty":
        run.mkdir()
    rc = main(["export", str(run), "-o", str(tmp_path / "m.ts")])
    _one_line(capsys, rc, str(run))
    assert not (tmp_path / "m.ts").exists()


def test_folder_with_a_dangling_link_and_a_non_utf8_name_still_trains(loops, tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    for f in sorted(os.listdir(loops)):
        os.symlink(loops / f, data / f)
    os.symlink(tmp_path / "deleted.wav", data / "deleted.wav")  # dangling
    x, sr = sf.read(str(loops / sorted(os.listdir(loops))[0]))
    sf.write(os.path.join(os.fsencode(data), b"caf\xe9.wav"), x, sr)  # Latin-1 name: not UTF-8
    (data / "broken.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEnot audio")
    os.mkfifo(data / "pipe.wav")  # reading it would block for ever
    run = tmp_path / "run"
    assert main(["train", str(data), "--out", str(run), *TINY]) == 0
    out = capsys.readouterr()
    assert json.loads((run / "train_time.json").read_text())["steps"] == 2
    table = out.out
    assert "3 file(s) used, 3 skipped" in table, table
    assert "dangling link" in table.split("deleted.wav")[1].splitlines()[0]
    assert "unreadable" in table.split("broken.wav")[1].splitlines()[0]
    assert "not a regular file" in table.split("pipe.wav")[1].splitlines()[0]
    assert "used" in table.split("caf\\xe9.wav")[1].splitlines()[0]  # read, shown escaped
    warnings = [line for line in out.err.splitlines() if line.startswith("warning: skipped")]
    assert len(warnings) == 3 and "deleted.wav" in "".join(warnings)


def _train_with_file_size_limit(args, nbytes: int):
    """``livegan train ARGS`` in a subprocess whose files cannot grow past ``nbytes`` (``RLIMIT_FSIZE``,
    ``SIGXFSZ`` ignored): writes fail with ``EFBIG`` as they would with ``ENOSPC`` on a full disk."""
    import resource
    import signal
    import subprocess
    import sys

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))

    return subprocess.run([sys.executable, "-m", "livegan", "train", *map(str, args)], capture_output=True,
                          text=True, timeout=300, preexec_fn=limit)


def _error_lines(r):
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    return [ln for ln in r.stderr.splitlines() if ln.startswith("livegan train: error: ")]


@pytest.mark.parametrize("room,fails,left", [(1 << 20, "checkpoint.pt", ["data.npz", "preset.json"]),
                                             (2000, "data.npz", [])])
def test_train_out_on_a_full_disk_is_one_line_and_leaves_no_partial_file(loops, tmp_path, room, fails, left):
    """1 MiB: the loops' cache and preset.json fit, the checkpoint (5 MB at model_dim 2) does not: torch's
    writer raised a C++ RuntimeError traceback before and left checkpoint.pt.part. 2000 bytes: the loops'
    cache does not fit: '[Errno 27] File too large' named no file, and data.npz.part.npz was left."""
    run = tmp_path / "run"
    r = _train_with_file_size_limit([loops, "--out", run, *TINY], room)
    errors = _error_lines(r)
    assert r.returncode == 2 and len(errors) == 1, r.stderr[-3000:]
    assert str(run / fails) in errors[0] and "File too large" in errors[0], errors
    assert sorted(os.listdir(run)) == left  # nothing partial


def test_resume_on_a_full_disk_keeps_the_previous_checkpoint(loops, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", str(loops), "--out", str(run), *TINY]) == 0
    before = (run / "checkpoint.pt").read_bytes()
    r = _train_with_file_size_limit([loops, "--out", run, *TINY, "--steps", "4", "--resume"], 1 << 20)
    errors = _error_lines(r)
    assert r.returncode == 2 and len(errors) == 1 and "previous checkpoint is kept" in errors[0], r.stderr[-3000:]
    assert (run / "checkpoint.pt").read_bytes() == before
    assert not (run / "checkpoint.pt.part").exists()


@pytest.mark.parametrize("error", [torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 80.00 GiB"),
                                   RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: "
                                                "can't allocate memory: you tried to allocate 98304000 bytes")])
def test_running_out_of_memory_is_one_line_naming_the_fields_to_lower(loops, tmp_path, capsys, monkeypatch, error):
    """A batch the machine cannot hold (within the range, on a smaller machine) ends as one line."""
    import train.trainer

    def train_out_of_memory(*a, **k):
        raise error

    monkeypatch.setattr(train.trainer, "train", train_out_of_memory)
    rc = main(["train", str(loops), "--out", str(tmp_path / "run"), *TINY, "--set", "batch_size=60000"])
    err = _one_line(capsys, rc, "out of memory")
    assert "batch_size (60000)" in err and "model_dim (2)" in err


@pytest.fixture(scope="module")
def trained(loops, tmp_path_factory):
    run = tmp_path_factory.mktemp("trained")
    assert main(["train", str(loops), "--out", str(run), *TINY]) == 0
    return torch.load(run / "checkpoint.pt", weights_only=True)


def _nan_weights(ck, last_only: bool = False):
    names = [k for k, v in ck["g"].items() if v.is_floating_point()][-1 if last_only else 0:]
    return {**ck, "g": {k: v * float("nan") if k in names else v for k, v in ck["g"].items()}}


BAD_CHECKPOINTS = {  # id -> (the run's checkpoint made wrong, what the one line says)
    "NaN weights": (_nan_weights, "non-finite output"),  # LinAlgError traceback from GANSpace's SVD
    "NaN in the last layer": (lambda ck: _nan_weights(ck, last_only=True), "non-finite output"),  # file was written
    "preset model_dim 100000": (lambda ck: {**ck, "preset": {**ck["preset"], "model_dim": 100000}},
                                "model_dim"),  # tried to allocate 819 GB for the networks
    "preset latent_dim 0": (lambda ck: {**ck, "preset": {**ck["preset"], "latent_dim": 0}}, "latent_dim"),
    "weights of the wrong shape": (lambda ck: {**ck, "g": {k: v[..., :1] if v.dim() else v
                                                           for k, v in ck["g"].items()}},
                                   "size mismatch"),  # 48 lines of load_state_dict
    "weights missing": (lambda ck: {**ck, "g": dict(list(ck["g"].items())[1:])}, "do not fit"),
}


@pytest.mark.parametrize("case", list(BAD_CHECKPOINTS))
def test_export_of_a_wrong_checkpoint_is_one_line(trained, tmp_path, capsys, case):
    """export runs resume's checks on the checkpoint's preset, and its weights must fit it and play."""
    make, says = BAD_CHECKPOINTS[case]
    run = tmp_path / "run"
    run.mkdir()
    torch.save(make(trained), run / "checkpoint.pt")
    rc = main(["export", str(run), "-o", str(tmp_path / "m.ts")])
    err = _one_line(capsys, rc, says)
    assert str(run / "checkpoint.pt") in err or str(tmp_path / "m.ts") in err, err  # names the file
    assert not (tmp_path / "m.ts").exists()  # nothing written
