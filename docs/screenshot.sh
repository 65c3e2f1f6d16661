#!/usr/bin/env bash
# Reproduces docs/demo-report.png: the HTML report of `authprobe demo`, rendered by a
# headless Chromium (Debian: apt-get install -y chromium). Run from the repository root.
set -euo pipefail
out="${1:-docs/demo-report.png}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cargo run --quiet -p authprobe -- demo --no-progress -o "$work/demo.html" >/dev/null
chromium --headless --no-sandbox --disable-gpu --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --hide-scrollbars --user-data-dir="$work/profile" \
  --screenshot="$out" --window-size=1280,2400 "file://$work/demo.html"
echo "wrote $out"
