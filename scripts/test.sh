#!/usr/bin/env bash
# Install everything the tests need, lint (ruff, mypy: a finding fails the run), start a JACK dummy
# server of this run's own name, run pytest, stop the server we started (by PID).   Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
. .venv/bin/activate
export JACK_NO_START_SERVER=1 PYO_GUI_WX=0

# What is enforced by tools, not by hand (pyproject.toml: [tool.ruff], [tool.mypy]): both run, then any finding fails.
lint_failed=""
ruff check . || lint_failed+=" [ruff check .]"
mypy || lint_failed+=" [mypy]"
if [ -n "$lint_failed" ]; then
  echo "test: lint failed:$lint_failed (findings above); no tests run" >&2
  exit 1
fi

# Each test run has a JACK server of its own, by name (JACK_DEFAULT_SERVER reaches every client: PortAudio,
# jack_lsp, jack_capture, rtmidi), so two runs on one machine never share or stop each other's server.
export JACK_DEFAULT_SERVER="livegan-test-$$"
jack_pid=""
stop_jack() {
  if [ -n "$jack_pid" ] && kill -0 "$jack_pid" 2>/dev/null; then
    kill -TERM "$jack_pid"; wait "$jack_pid" 2>/dev/null || true
  fi
}
trap stop_jack EXIT
# SCHED_FIFO first, as on stage; containers may refuse it, then run without.
for rt in "-R -P 70" "--no-realtime"; do
  JACK_NO_AUDIO_RESERVATION=1 jackd -n "$JACK_DEFAULT_SERVER" $rt -d dummy -r 48000 -p 256 \
    >"/tmp/$JACK_DEFAULT_SERVER.log" 2>&1 &
  jack_pid=$!
  if jack_wait -s "$JACK_DEFAULT_SERVER" -w -t 10 >/dev/null 2>&1 && kill -0 "$jack_pid" 2>/dev/null; then
    echo "test: JACK dummy server $JACK_DEFAULT_SERVER up (pid $jack_pid, jackd $rt)"; break
  fi
  kill -TERM "$jack_pid" 2>/dev/null || true; wait "$jack_pid" 2>/dev/null || true; jack_pid=""
done
[ -n "$jack_pid" ] || echo "test: jackd could not start (see /tmp/$JACK_DEFAULT_SERVER.log); JACK tests will skip and say so"

python -m pytest -q "$@"
