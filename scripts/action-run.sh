#!/usr/bin/env bash
# The GitHub Action's scan step (action.yml), kept in a script so it can be run and tested
# outside GitHub: give it the INPUT_* variables and GITHUB_OUTPUT / GITHUB_STEP_SUMMARY.
#
# Inputs (environment): INPUT_URL (required), INPUT_BEARER, INPUT_BASIC (USER:PASSWORD),
# INPUT_CLIENT_CERT / INPUT_CLIENT_KEY (PEM text, not paths: they come from secrets),
# INPUT_EXTRA_ARGS (split on whitespace), INPUT_FAIL_ON, INPUT_MIN_SCORE, INPUT_BASELINE,
# INPUT_OUTPUT_DIR. AUTHPROBE_BIN overrides the binary (tests).
# Exit status: authprobe's own (0 pass, 1 a gate failed, 2 error), after outputs are written.
set -euo pipefail

bin="${AUTHPROBE_BIN:-authprobe}"
url="${INPUT_URL:-}"
if [[ -z "$url" ]]; then
  echo "::error::authprobe action: the url input is required" >&2
  exit 2
fi
out_dir="${INPUT_OUTPUT_DIR:-}"
if [[ -z "$out_dir" ]]; then
  out_dir="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/authprobe-report"
fi
mkdir -p "$out_dir"

# Key material only ever lives in a private directory that is removed however we exit.
umask 077
secrets_dir="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/authprobe-secrets.XXXXXX")"
trap 'rm -rf "$secrets_dir"' EXIT

args=(scan "$url" --no-progress)
if [[ -n "${INPUT_CLIENT_CERT:-}" || -n "${INPUT_CLIENT_KEY:-}" ]]; then
  if [[ -z "${INPUT_CLIENT_CERT:-}" || -z "${INPUT_CLIENT_KEY:-}" ]]; then
    echo "::error::authprobe action: client-cert and client-key go together" >&2
    exit 2
  fi
  printf '%s\n' "$INPUT_CLIENT_CERT" >"$secrets_dir/client.pem"
  printf '%s\n' "$INPUT_CLIENT_KEY" >"$secrets_dir/client.key"
  chmod 600 "$secrets_dir/client.pem" "$secrets_dir/client.key"
  args+=(--client-cert "$secrets_dir/client.pem" --client-key "$secrets_dir/client.key")
fi
# Tokens and passwords go through the environment, never argv, so `ps` cannot see them.
if [[ -n "${INPUT_BEARER:-}" ]]; then
  export AUTHPROBE_BEARER="$INPUT_BEARER"
  echo "::add-mask::$INPUT_BEARER"
fi
if [[ -n "${INPUT_BASIC:-}" ]]; then
  export AUTHPROBE_BASIC="$INPUT_BASIC"
  echo "::add-mask::${INPUT_BASIC#*:}"
fi
[[ -n "${INPUT_FAIL_ON:-}" ]] && args+=(--fail-on "$INPUT_FAIL_ON")
[[ -n "${INPUT_MIN_SCORE:-}" ]] && args+=(--min-score "$INPUT_MIN_SCORE")
[[ -n "${INPUT_BASELINE:-}" ]] && args+=(--baseline "$INPUT_BASELINE")

json="$out_dir/authprobe.json"
sarif="$out_dir/authprobe.sarif"
md="$out_dir/authprobe.md"
html="$out_dir/authprobe.html"
junit="$out_dir/authprobe-junit.xml"
args+=(-o "$json" -o "$sarif" -o "$md" -o "$html" -o "$junit")
if [[ -n "${INPUT_EXTRA_ARGS:-}" ]]; then
  read -r -a extra <<<"$INPUT_EXTRA_ARGS"
  args+=("${extra[@]}")
fi

status=0
"$bin" "${args[@]}" || status=$?
if [[ $status -ge 2 || ! -s "$json" ]]; then
  echo "::error::authprobe could not complete the scan (exit $status)" >&2
  exit "$status"
fi

# A top-level field of the JSON report; for a list, its length. Without jq, read
# authprobe's own pretty-printed JSON (two-space indent, one field a line).
field() {
  if command -v jq >/dev/null; then
    jq -r --arg k "$1" '.[$k] | if type == "array" then length else . end' "$json"
  else
    awk -v k="$1" '
      $0 ~ "^  \"" k "\": \\[\\]" { print 0; exit }
      $0 ~ "^  \"" k "\": \\[" { inlist = 1; n = 0; next }
      inlist && /^  \]/ { print n; exit }
      inlist && /^    \{/ { n++ }
      $0 ~ "^  \"" k "\": [^\\[]" { sub(/^[^:]*: /, ""); sub(/,$/, ""); gsub(/"/, ""); print; exit }
    ' "$json"
  fi
}
score="$(field score)"
grade="$(field grade)"
findings="$(field findings)"

if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
  {
    echo "score=$score"
    echo "grade=$grade"
    echo "findings=$findings"
    echo "sarif=$sarif"
    echo "json=$json"
    echo "html=$html"
    echo "markdown=$md"
    echo "junit=$junit"
  } >>"$GITHUB_OUTPUT"
fi
if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
  cat "$md" >>"$GITHUB_STEP_SUMMARY"
fi
echo "authprobe: score $score, grade $grade, $findings findings; reports in $out_dir"
exit "$status"
