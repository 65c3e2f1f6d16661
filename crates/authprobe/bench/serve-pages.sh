#!/usr/bin/env bash
# The dashboard on a large history (10,000 scans, 500,000 findings by default): seeds the
# database from a real lab report, then times the targets list, a target's history, a
# scan page and a diff against a running `authprobe serve`, on SQLite and PostgreSQL.
# Sizes: BENCH_TARGETS (200) x BENCH_SCANS_PER_TARGET (50) x BENCH_FINDINGS_PER_SCAN (51, one dropped per scan);
# BENCH_ROUNDS (200) requests per page.
set -euo pipefail
cd "$(dirname "$0")/../../.."
nproc | sed 's/^/cores: /'
cargo test --release -p authprobe --test serve_bench -- --ignored --nocapture --test-threads 1 2>&1 \
    | grep -E '^\[|seeded|test result|panicked|SKIPPED'
