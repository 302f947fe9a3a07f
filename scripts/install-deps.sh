#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages that ebiten's cgo build and the headless
# client tests need (an X server in memory, Mesa GL headers, imagemagick for
# screenshots). It does nothing when they are all present, and when it cannot
# install it prints the exact command to run and exits non-zero.
set -euo pipefail

PACKAGES=(gcc libc6-dev libgl1-mesa-dev libxcursor-dev libxi-dev libxinerama-dev
  libxrandr-dev libxxf86vm-dev libx11-dev libxext-dev xvfb xauth imagemagick)
# Headless Chromium for the browser end-to-end test (demo-game/web).
PACKAGES+=(chromium chromium-headless-shell fonts-liberation)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: no apt-get here; install the equivalents of: ${missing[*]}" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo"
  else
    echo "install-deps: missing packages: ${missing[*]}" >&2
    echo "install-deps: run as root:  $cmd" >&2
    exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
