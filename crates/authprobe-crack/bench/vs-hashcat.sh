#!/usr/bin/env bash
# Side by side: hashcat -m 16500 (CPU via OpenCL) against authprobe-crack on
# the same HS256 token and the same wordlist, secret on the last line.
#
#   bash crates/authprobe-crack/bench/vs-hashcat.sh          # 50M candidates
#   N=10000000 bash crates/authprobe-crack/bench/vs-hashcat.sh
#
# Needs: apt-get install -y hashcat pocl-opencl-icd. The wordlist (about
# 0.7 GB for 50M lines) lives in a temp dir removed on exit.
set -euo pipefail

N=${N:-50000000}
THREADS=${THREADS:-$(nproc)}
SECRET=authprobe-vs-hashcat-secret
# {"alg":"HS256","typ":"JWT"}.{"sub":"1234567890","name":"John Doe","iat":1516239022}
# signed with $SECRET: a 111-byte signing input, 5 compressions per candidate.
TOKEN=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.7SBsoROcy2O2VfTvLx_DNGR7AZd8UoaIIHX6So_tI7M

ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target-crack}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vs-hashcat.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

command -v hashcat >/dev/null || { echo "hashcat not installed" >&2; exit 1; }
(cd "$ROOT" && cargo build --release -q -p authprobe-crack --example crack)
CRACK=$CARGO_TARGET_DIR/release/examples/crack

echo "generating $N candidates..."
WL=$WORK/words.txt
seq -f 'cand%.0f' 1 $((N - 1)) >"$WL"
echo "$SECRET" >>"$WL"
echo "$TOKEN" >"$WORK/hash.txt"
ls -l "$WL"
# Both tools read the list from the page cache, not the disk.
cat "$WL" >/dev/null

# On a shared machine wall-clock rates depend on the neighbours; CPU seconds
# (user + sys of the tool and its threads) give a load-independent figure.
TIMEFORMAT='%R %U %S'

echo "== hashcat -m 16500 -a 0 -D 1"
HC_T=$( { time hashcat -m 16500 -a 0 -D 1 --force --potfile-disable --status --status-timer=15 \
    -o "$WORK/found.txt" --session=authprobe-vs "$WORK/hash.txt" "$WL" >"$WORK/hashcat.log" 2>&1; } 2>&1 || true)
grep -E '^(Status|Speed|Time.Started|Progress)' "$WORK/hashcat.log" | tail -5
HC_FOUND=$(cut -d: -f2- "$WORK/found.txt" 2>/dev/null || true)
# Speed.#1.........:  1181.5 kH/s (...) -> candidates per second
HC_RATE=$(grep -E '^Speed\.#' "$WORK/hashcat.log" | tail -1 | awk '{
    v = $2; u = $3
    m = (u ~ /^kH/) ? 1e3 : (u ~ /^MH/) ? 1e6 : (u ~ /^GH/) ? 1e9 : 1
    printf "%.0f", v * m }')
echo "hashcat found: ${HC_FOUND:-<nothing>}  wall/user/sys: $HC_T s"

echo "== authprobe-crack ($THREADS threads)"
AP_T=$( { time "$CRACK" "$TOKEN" --threads "$THREADS" "$WL" >"$WORK/authprobe.log"; } 2>&1)
OUT=$(cat "$WORK/authprobe.log")
echo "$OUT"
# "HS256 tried N in S s: R M candidates/s (...)"
AP_RATE=$(echo "$OUT" | awk '/ tried /{ printf "%.0f", $(NF-3) * 1e6 }')
echo "authprobe wall/user/sys: $AP_T s"

echo
printf 'hashcat   %10.2f M candidates/s\n' "$(echo "${HC_RATE:-0} / 1000000" | bc -l)"
printf 'authprobe %10.2f M candidates/s\n' "$(echo "${AP_RATE:-0} / 1000000" | bc -l)"
if [ -n "${HC_RATE:-}" ] && [ "${HC_RATE:-0}" != 0 ]; then
    printf 'ratio     %10.2fx\n' "$(echo "$AP_RATE / $HC_RATE" | bc -l)"
fi
# Whole-run candidates per CPU-second (hashcat's includes its start-up and
# dictionary scan; ours includes reading the file).
cpu() { echo "$1" | awk '{ print $2 + $3 }'; }
printf 'per CPU-second: hashcat %.2f M, authprobe %.2f M, ratio %.2fx\n' \
    "$(echo "$N / $(cpu "$HC_T") / 1000000" | bc -l)" \
    "$(echo "$N / $(cpu "$AP_T") / 1000000" | bc -l)" \
    "$(echo "$(cpu "$HC_T") / $(cpu "$AP_T")" | bc -l)"
