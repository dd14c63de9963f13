#!/usr/bin/env bash
# Install everything the tests need, start a JACK dummy server (unless one runs),
# run pytest, stop the server we started (by PID).   Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
. .venv/bin/activate
export JACK_NO_START_SERVER=1 PYO_GUI_WX=0

jack_pid=""
stop_jack() {
  if [ -n "$jack_pid" ] && kill -0 "$jack_pid" 2>/dev/null; then
    kill -TERM "$jack_pid"; wait "$jack_pid" 2>/dev/null || true
  fi
}
trap stop_jack EXIT
if ! jack_lsp >/dev/null 2>&1; then
  # SCHED_FIFO first, as on stage; containers may refuse it, then run without.
  for rt in "-R -P 70" "--no-realtime"; do
    JACK_NO_AUDIO_RESERVATION=1 jackd $rt -d dummy -r 48000 -p 256 >/tmp/livegan-jackd.log 2>&1 &
    jack_pid=$!
    if jack_wait -w -t 10 >/dev/null 2>&1 && kill -0 "$jack_pid" 2>/dev/null; then
      echo "test: JACK dummy server up (pid $jack_pid, jackd $rt)"; break
    fi
    kill -TERM "$jack_pid" 2>/dev/null || true; wait "$jack_pid" 2>/dev/null || true; jack_pid=""
  done
  [ -n "$jack_pid" ] || echo "test: jackd could not start (see /tmp/livegan-jackd.log); JACK tests will skip and say so"
fi

python -m pytest -q "$@"
