#!/usr/bin/env bash
# Runs every fuzz target in the module for FUZZTIME each (default 10s).
# go test -fuzz takes one target and one package at a time, hence the loop.
set -euo pipefail
FUZZTIME="${FUZZTIME:-10s}"
status=0
for pkg in $(go list ./... | grep -v /demo-game/client); do
  for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    echo "== $pkg $target ($FUZZTIME)"
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 5s "$pkg"; then
      status=1
    fi
  done
done
exit $status
