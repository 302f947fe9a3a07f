#!/usr/bin/env bash
# The Tickwire demo in one command (make demo): installs what the ebiten
# client needs (scripts/install-deps.sh), builds the demo server, the bots and
# the client into ./bin, then starts on 127.0.0.1 a server, a few bots and one
# client window. Closing the window (or Ctrl-C) stops everything.
#
# Without a display ($DISPLAY and $WAYLAND_DISPLAY empty) it runs the server
# and the bots headlessly for DEMO_SECONDS and prints the bots' live stats
# instead.
#
# Settings (environment):
#   DEMO_ADDR        server UDP address           (default 127.0.0.1:7777)
#   DEMO_ADMIN       server metrics/pprof address (default 127.0.0.1:9100)
#   DEMO_BOTS        number of bots               (default 3)
#   DEMO_SECONDS     headless run time            (default 30)
#   DEMO_LOSS, DEMO_LATENCY, DEMO_JITTER
#                    netsim on the server socket, each direction (default 2%, 40ms, 5ms)
#   SERVER_ARGS, BOTS_ARGS, CLIENT_ARGS   extra flags for each program
set -euo pipefail
cd "$(dirname "$0")/.."

ADDR=${DEMO_ADDR:-127.0.0.1:7777}
ADMIN=${DEMO_ADMIN:-127.0.0.1:9100}
BOTS=${DEMO_BOTS:-3}
SECONDS_HEADLESS=${DEMO_SECONDS:-30}
LOSS=${DEMO_LOSS:-2%}
LATENCY=${DEMO_LATENCY:-40ms}
JITTER=${DEMO_JITTER:-5ms}
BIN=bin
GO=${GO:-go}

case "$ADDR" in
  127.*|localhost:*|\[::1\]:*) ;;
  *) echo "demo: DEMO_ADDR=$ADDR: the demo runs on loopback only (127.0.0.1:PORT)" >&2; exit 2 ;;
esac

headless=1
if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  headless=0
fi

if [ "$headless" = 0 ]; then
  # The client needs cgo and the X/GL headers: stop with the exact command
  # when they are missing and cannot be installed.
  bash scripts/install-deps.sh
elif ! bash scripts/install-deps.sh; then
  echo "demo: (no display: the server and bots do not need those packages; going on headless)" >&2
fi

mkdir -p "$BIN"
echo "demo: building"
"$GO" build -o "$BIN/demo-server" ./demo-game/server
"$GO" build -o "$BIN/demo-bots" ./demo-game/bots
if [ "$headless" = 0 ]; then
  "$GO" build -o "$BIN/demo-client" ./demo-game/client
fi

LOG=$(mktemp -t tickwire-demo-server.XXXXXX.log)
pids=()
cleanup() {
  trap - EXIT INT TERM
  # Stop what this script started, newest first; SIGTERM lets the server
  # tell its clients before it exits.
  for ((i=${#pids[@]}-1; i>=0; i--)); do
    kill -TERM "${pids[$i]}" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  echo "demo: stopped (server log: $LOG)"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "demo: server on $ADDR (admin http://$ADMIN/metrics), netsim loss $LOSS latency $LATENCY jitter $JITTER each way"
# shellcheck disable=SC2086
"$BIN/demo-server" -addr "$ADDR" -admin "$ADMIN" -loss "$LOSS" -latency "$LATENCY" -jitter "$JITTER" ${SERVER_ARGS:-} 2>"$LOG" &
pids+=($!)
for _ in $(seq 100); do
  grep -q "demo server listening" "$LOG" 2>/dev/null && break
  if ! kill -0 "${pids[0]}" 2>/dev/null; then
    echo "demo: the server did not start:" >&2; cat "$LOG" >&2; exit 1
  fi
  sleep 0.1
done
grep -q "demo server listening" "$LOG" || { echo "demo: the server did not start within 10 s:" >&2; cat "$LOG" >&2; exit 1; }

if [ "$headless" = 1 ]; then
  echo "demo: no display (DISPLAY and WAYLAND_DISPLAY are empty): running $BOTS bots headlessly for ${SECONDS_HEADLESS}s"
  # shellcheck disable=SC2086
  "$BIN/demo-bots" -addr "$ADDR" -admin "$ADMIN" -n "$BOTS" -duration "${SECONDS_HEADLESS}s" -interval 5s ${BOTS_ARGS:-} &
  pids+=($!)
  wait "${pids[1]}" || true
  exit 0
fi

echo "demo: $BOTS bots and a client window; close the window (or press Ctrl-C) to stop"
# shellcheck disable=SC2086
"$BIN/demo-bots" -addr "$ADDR" -n "$BOTS" -duration 2h -interval 10s ${BOTS_ARGS:-} &
pids+=($!)
# shellcheck disable=SC2086
"$BIN/demo-client" -addr "$ADDR" ${CLIENT_ARGS:-} &
pids+=($!)
wait "${pids[2]}" || true
