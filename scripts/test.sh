#!/usr/bin/env bash
# The project's test command (make test): vet, gofmt, then every test with the
# race detector. Packages that import ebiten need an X display even to start,
# so without one the tests run under xvfb-run.
set -euo pipefail
echo "== go vet"
go vet ./...
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
  xvfb-run -a -s '-screen 0 1280x720x24' go test -race -count=1 -timeout 20m ./...
else
  go test -race -count=1 -timeout 20m ./...
fi
