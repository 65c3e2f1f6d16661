#!/usr/bin/env bash
# Reproduces the HTML report's screenshots in docs/: the report of `authprobe demo` (a scan
# of the vulnerable lab) rendered by a headless Chromium (Debian: apt-get install -y
# chromium) at a desktop width, docs/report-1400.png (also docs/demo-report.png, which the
# README shows), and at a phone's width, docs/report-420.png. Run from the repository root;
# an argument names another directory for the PNGs.
set -euo pipefail
out="${1:-docs}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cargo run --quiet -p authprobe -- demo --no-progress -o "$work/demo.html" >/dev/null
shot() { # width height file
  chromium --headless --no-sandbox --disable-gpu --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --user-data-dir="$work/profile" \
    --screenshot="$3" --window-size="$1,$2" "file://$work/demo.html" 2>/dev/null
  echo "wrote $3"
}
shot 1400 2400 "$out/report-1400.png"
# A phone is narrow and tall: the summary cards stack, then the findings table.
shot 420 2400 "$out/report-420.png"
cp "$out/report-1400.png" "$out/demo-report.png"
