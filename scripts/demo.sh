#!/usr/bin/env bash
# The Tickwire demo in one command (make demo): installs what the ebiten
# client needs (scripts/install-deps.sh), builds the demo server, the bots and
# the client into ./bin, then starts on 127.0.0.1 a server, a few bots and one
# client window. Closing the window (or Ctrl-C) stops everything.
# Run scripts/demo.sh -h for the settings.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/demo.sh          (or: make demo)

Starts on 127.0.0.1 a demo server, DEMO_BOTS bots and a client window; closing
the window or Ctrl-C stops everything. Without a display ($DISPLAY and
$WAYLAND_DISPLAY empty) it runs the server and the bots headlessly for
DEMO_SECONDS and prints the bots' stats; the exit status is the bots' (1 when
a check printed FAIL). A port already in use stops it with the reason.

Settings (environment variables):
  DEMO_ADDR      server UDP address              (default 127.0.0.1:7777)
  DEMO_ADMIN     server metrics/pprof address    (default 127.0.0.1:9100;
                 port 0 picks a free one, printed at start)
  DEMO_BOTS      number of bots                  (default 3)
  DEMO_SECONDS   headless run time in seconds    (default 30)
  DEMO_LOSS, DEMO_LATENCY, DEMO_JITTER
                 netsim on the server socket, each direction
                 (default 2%, 40ms, 5ms)
  SERVER_ARGS, BOTS_ARGS, CLIENT_ARGS   extra flags for each program
  GO             the go command                  (default go)

Example: DEMO_ADMIN=127.0.0.1:0 DEMO_BOTS=5 DEMO_LOSS=10% make demo
USAGE
}
case "${1:-}" in
  -h|-help|--help) usage; exit 0 ;;
  "") ;;
  *) echo "demo: unexpected argument \"$1\": settings are environment variables (scripts/demo.sh -h)" >&2; exit 2 ;;
esac
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

case "$BOTS" in
  ''|*[!0-9]*) echo "demo: DEMO_BOTS=$BOTS: want a whole number of bots, 1..1000" >&2; exit 2 ;;
esac
case "$SECONDS_HEADLESS" in
  ''|*[!0-9]*) echo "demo: DEMO_SECONDS=$SECONDS_HEADLESS: want a whole number of seconds, like 30" >&2; exit 2 ;;
esac

mkdir -p "$BIN"
echo "demo: building the server and the bots into $BIN/"
"$GO" build -o "$BIN/demo-server" ./demo-game/server
"$GO" build -o "$BIN/demo-bots" ./demo-game/bots
if [ "$headless" = 0 ]; then
  echo "demo: building the client (the first build compiles ebiten and its C parts: a minute or more)"
  "$GO" build -o "$BIN/demo-client" ./demo-game/client
  "$GO" build -o "$BIN/demo-client-window" ./demo-game/client/window
fi

LOG=$(mktemp -t tickwire-demo-server.XXXXXX.log)
pids=()
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  # Stop what this script started, newest first, each before the next: the
  # client and the bots leave before the server goes (so a clean stop is not
  # a lost connection), and SIGTERM lets the server tell its clients.
  for ((i=${#pids[@]}-1; i>=0; i--)); do
    pid=${pids[$i]}
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  echo "demo: stopped (server log: $LOG)"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "demo: server on $ADDR (admin http://$ADMIN/metrics), netsim loss $LOSS latency $LATENCY jitter $JITTER each way"
# shellcheck disable=SC2086
setsid "$BIN/demo-server" -addr "$ADDR" -admin "$ADMIN" -loss "$LOSS" -latency "$LATENCY" -jitter "$JITTER" ${SERVER_ARGS:-} 2>"$LOG" &
pids+=($!)
for _ in $(seq 100); do
  grep -q "demo server listening" "$LOG" 2>/dev/null && break
  if ! kill -0 "${pids[0]}" 2>/dev/null; then
    echo "demo: the server did not start (is $ADDR or $ADMIN in use? set DEMO_ADDR or DEMO_ADMIN, e.g. DEMO_ADMIN=127.0.0.1:0 for any free port):" >&2
    cat "$LOG" >&2; exit 1
  fi
  sleep 0.1
done
grep -q "demo server listening" "$LOG" || { echo "demo: the server did not start within 10 s:" >&2; cat "$LOG" >&2; exit 1; }
# The admin address the server actually bound (DEMO_ADMIN may say port 0).
bound=$(sed -n 's/.*demo server listening.* admin=\([^ ]*\).*/\1/p' "$LOG" | head -n1)
if [ -n "$bound" ] && [ "$bound" != "$ADMIN" ]; then
  echo "demo: admin on http://$bound/metrics"
  ADMIN=$bound
fi

if [ "$headless" = 1 ]; then
  echo "demo: no display (DISPLAY and WAYLAND_DISPLAY are empty): running $BOTS bots headlessly for ${SECONDS_HEADLESS}s"
  # shellcheck disable=SC2086
  setsid "$BIN/demo-bots" -addr "$ADDR" -admin "$ADMIN" -n "$BOTS" -duration "${SECONDS_HEADLESS}s" -interval 5s ${BOTS_ARGS:-} &
  pids+=($!)
  status=0
  wait "${pids[1]}" || status=$?
  if [ "$status" != 0 ]; then echo "demo: the bots exited with status $status (see the FAIL lines above)" >&2; fi
  exit "$status"
fi

echo "demo: $BOTS bots and a client window; close the window (or press Ctrl-C) to stop"
# shellcheck disable=SC2086
setsid "$BIN/demo-bots" -addr "$ADDR" -n "$BOTS" -duration 2h -interval 10s ${BOTS_ARGS:-} &
pids+=($!)
# shellcheck disable=SC2086
setsid "$BIN/demo-client" -addr "$ADDR" ${CLIENT_ARGS:-} &
pids+=($!)
wait "${pids[2]}" || true
