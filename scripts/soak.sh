#!/usr/bin/env bash
# Soak run (make soak): a demo server and SOAK_BOTS bots for SOAK_DURATION on
# 127.0.0.1. The bots command samples the server's heap, goroutines and tick
# overruns through its admin metrics every SOAK_INTERVAL, prints them with the
# bots' stats, and at the end checks: heap and goroutines flat, every bot
# connected and welcomed (no reliable message lost), no connection ended,
# interpolation stalls and tick overruns within bounds. Exit status 0 when
# every check passed.
#
# Settings (environment):
#   SOAK_BOTS      bots                             (default 200)
#   SOAK_DURATION  run time, a Go duration          (default 10m)
#   SOAK_INTERVAL  sample/print interval            (default 30s)
#   SOAK_ADDR      server UDP address               (default 127.0.0.1:7787)
#   SOAK_ADMIN     server metrics address           (default 127.0.0.1:9187)
#   SOAK_VIEW      server -view-radius (interest)   (default 0: the whole arena)
#   SOAK_NICE      nice level of the bots process   (default 10; they stand in
#                  for remote machines and should not preempt the server)
#   SERVER_ARGS, BOTS_ARGS   extra flags
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  -h|-help|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "soak: unexpected argument \"$1\": settings are environment variables (scripts/soak.sh -h)" >&2; exit 2 ;;
esac

BOTS=${SOAK_BOTS:-200}
DURATION=${SOAK_DURATION:-10m}
INTERVAL=${SOAK_INTERVAL:-30s}
ADDR=${SOAK_ADDR:-127.0.0.1:7787}
ADMIN=${SOAK_ADMIN:-127.0.0.1:9187}
VIEW=${SOAK_VIEW:-0}
NICE=${SOAK_NICE:-10}
BIN=bin
GO=${GO:-go}

case "${DURATION%[hms]}" in
  ''|*[!0-9]*) echo "soak: SOAK_DURATION=$DURATION: want a whole number with s, m or h, like 600s or 10m" >&2; exit 2 ;;
esac
# A hard bound on top of -duration: the run plus two minutes.
case "$DURATION" in
  *h) secs=$(( ${DURATION%h} * 3600 )) ;;
  *m) secs=$(( ${DURATION%m} * 60 )) ;;
  *s) secs=${DURATION%s} ;;
  *) echo "soak: SOAK_DURATION=$DURATION: want a whole number with s, m or h, like 600s or 10m" >&2; exit 2 ;;
esac

mkdir -p "$BIN"
"$GO" build -o "$BIN/demo-server" ./demo-game/server
"$GO" build -o "$BIN/demo-bots" ./demo-game/bots

LOG=$(mktemp -t tickwire-soak-server.XXXXXX.log)
server=""
cleanup() {
  trap - EXIT INT TERM
  if [ -n "$server" ]; then
    kill -TERM "$server" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  echo "soak: server log: $LOG"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# shellcheck disable=SC2086
"$BIN/demo-server" -addr "$ADDR" -admin "$ADMIN" -max-players $((BOTS + 16)) -view-radius "$VIEW" ${SERVER_ARGS:-} 2>"$LOG" &
server=$!
# Wait for the server's own word: a port that answers may be another
# program's (node_exporter listens on 9100).
for _ in $(seq 100); do
  grep -q "demo server listening" "$LOG" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { echo "soak: the server did not start (is $ADDR or $ADMIN in use? set SOAK_ADDR or SOAK_ADMIN):" >&2; cat "$LOG" >&2; exit 1; }
  sleep 0.1
done
grep -q "demo server listening" "$LOG" || { echo "soak: the server did not start within 10 s:" >&2; cat "$LOG" >&2; exit 1; }

echo "soak: $BOTS bots for $DURATION against $ADDR (view radius $VIEW), samples every $INTERVAL"
nice_cmd=()
if [ "$NICE" != 0 ] && command -v nice >/dev/null; then nice_cmd=(nice -n "$NICE"); fi
status=0
# shellcheck disable=SC2086
"${nice_cmd[@]}" timeout --signal=INT --kill-after=30s "$((secs + 120))" \
  "$BIN/demo-bots" -soak -addr "$ADDR" -admin "$ADMIN" -n "$BOTS" -duration "$DURATION" -interval "$INTERVAL" ${BOTS_ARGS:-} || status=$?
if [ "$status" = 0 ]; then echo "soak: PASS"; else echo "soak: FAIL (exit $status)"; fi
exit "$status"
