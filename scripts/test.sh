#!/usr/bin/env bash
# The project's test command (make test): vet, gofmt, then every test with the
# race detector. The ebiten client's tests draw real frames: they carry the
# build tag "display" (a test binary that imports ebiten cannot even start
# without an X display), and run here under xvfb-run when $DISPLAY is empty.
# Every other test needs no display: go test ./... runs them anywhere.
set -euo pipefail
echo "== go vet"
go vet ./...
go vet -tags display ./demo-game/client/...
echo "== gofmt"
unformatted="$(gofmt -l .)"
if [ -n "$unformatted" ]; then
  echo "gofmt: these files need formatting (run: gofmt -w .):" >&2
  echo "$unformatted" >&2
  exit 1
fi
echo "== go test -race"
mkdir -p artifacts
if [ -z "${DISPLAY:-}" ] && command -v xvfb-run >/dev/null 2>&1; then
  xvfb-run -a -s '-screen 0 1280x720x24' go test -race -count=1 -timeout 20m -tags display ./...
else
  go test -race -count=1 -timeout 20m -tags display ./...
fi
echo "== examples and tests without a display"
env -u DISPLAY go test -count=1 -run Example ./...
