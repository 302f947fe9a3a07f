#!/usr/bin/env bash
# Builds the demo client for the browser (GOOS=js GOARCH=wasm) into
# bin/web — client.wasm, client.wasm.gz and Go's wasm_exec.js — checks that
# it links no net/http and stays within the size budget, then serves it
# with the demo server (demo-game/web) and prints the URL to open.
#   bash scripts/web.sh [flags of demo-game/web]
#   WEB_BUILD_ONLY=1 bash scripts/web.sh     # build and check only
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
OUT=${WEB_DIR:-bin/web}
MAX_GZ=$((6 * 1024 * 1024)) # the budget: 6 MB gzipped
PKG=./demo-game/client/window

mkdir -p "$OUT"
deps=$(GOOS=js GOARCH=wasm $GO list -deps "$PKG")
if grep -qx 'net/http' <<<"$deps"; then
  echo "web: the wasm client links net/http (7.7 MB): call the browser's APIs through syscall/js instead" >&2
  exit 1
fi
GOOS=js GOARCH=wasm $GO build -trimpath -ldflags='-s -w' -o "$OUT/client.wasm" "$PKG"
gzip -9 -c "$OUT/client.wasm" > "$OUT/client.wasm.gz"
cp "$($GO env GOROOT)/lib/wasm/wasm_exec.js" "$OUT/"
size=$(wc -c < "$OUT/client.wasm")
gz=$(wc -c < "$OUT/client.wasm.gz")
echo "web: $OUT/client.wasm $((size / 1024)) KiB, gzipped $((gz / 1024)) KiB (budget $((MAX_GZ / 1024)) KiB)"
if [ "$gz" -gt "$MAX_GZ" ]; then
  echo "web: the gzipped client is over the budget" >&2
  exit 1
fi
[ -n "${WEB_BUILD_ONLY:-}" ] && exit 0
exec $GO run ./demo-game/web -dir "$OUT" "$@"
