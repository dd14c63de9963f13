#!/usr/bin/env bash
# Install livegan into ./.venv on a Debian machine: system libraries, a virtual
# environment, PyTorch (the CPU-friendly pin when none is present) and the package,
# every dependency at the version locked in requirements/ (re-lock: bash scripts/lock.sh).
#   bash scripts/setup.sh           # performer + trainer
#   bash scripts/setup.sh --tests   # also what the test suite needs (JACK server, jack_capture, tmux, iproute2)
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=0
[ "${1:-}" = "--tests" ] && want_tests=1
PY=${PYTHON:-python3}
TORCH_SPEC=${LIVEGAN_TORCH_SPEC:-torch==2.13.0}
LOCK=requirements/constraints.txt
# torch's own dependencies are locked for the default pin only: another build brings its own
TORCH_LOCK=()
[ -z "${LIVEGAN_TORCH_SPEC:-}" ] && TORCH_LOCK=(-c requirements/torch-constraints.txt)

pkgs=(libportaudio2 libsndfile1)
[ "$want_tests" = 1 ] && pkgs+=(jackd2 jack-capture tmux iproute2)  # iproute2: the Link tests' loopback-only namespace
$PY -c "import venv, ensurepip" 2>/dev/null || pkgs+=(python3-venv)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" != 0 ] && command -v sudo >/dev/null && SUDO="sudo"
  if [ "$(id -u)" != 0 ] && [ -z "$SUDO" ]; then
    echo "setup: please install these Debian packages first: ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  # jackd2 asks about real-time priority: answer non-interactively
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# a venv cut short (setup interrupted while venv ran ensurepip) has a python but no pip: made again
if [ -x .venv/bin/python ] && ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
  echo "setup: .venv has no pip (an interrupted set-up?): making it again"
  rm -rf .venv
fi
[ -x .venv/bin/python ] || $PY -m venv .venv
VPY=.venv/bin/python
# The lock holds the versions resolved for one Python (numpy wheels, for one, follow Python releases);
# another Python gets the newest versions pyproject.toml allows, and says so.
locked_py=$(sed -n 's/^# locked-for-python //p' "$LOCK")
venv_py=$($VPY -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ "$locked_py" != "$venv_py" ]; then
  echo "setup: requirements/ is locked for Python $locked_py, this is $venv_py: installing unpinned versions" \
       "(bash scripts/lock.sh re-locks)" >&2
  LOCK=/dev/null TORCH_LOCK=()
fi
$VPY -m pip install -q -c "$LOCK" --upgrade pip >/dev/null 2>&1 || true
if ! $VPY -c "import torch" 2>/dev/null; then
  echo "setup: installing $TORCH_SPEC"
  $VPY -m pip install -q "${TORCH_LOCK[@]}" "$TORCH_SPEC" 2>&1 | grep -v "^WARNING: Location" || true
fi
extras="train"
[ "$want_tests" = 1 ] && extras="train,test"
echo "setup: installing livegan[$extras]"
$VPY -m pip install -q -c "$LOCK" -e ".[$extras]" 2>&1 | grep -v "^WARNING: Location" || true
$VPY -c "import livegan, torch, numba, sounddevice, soundfile, mido, rtmidi" \
  || { echo "setup: the install is incomplete (see above)" >&2; exit 1; }
echo "setup: done. Activate with: . .venv/bin/activate"
