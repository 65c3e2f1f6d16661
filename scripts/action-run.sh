#!/usr/bin/env bash
# The GitHub Action's scan step (action.yml), kept in a script so it can be run and tested
# outside GitHub: give it the INPUT_* variables and GITHUB_OUTPUT / GITHUB_STEP_SUMMARY.
#
# Inputs (environment): INPUT_URL (required), INPUT_BEARER, INPUT_BASIC (USER:PASSWORD),
# INPUT_CLIENT_CERT / INPUT_CLIENT_KEY (PEM text, not paths: they come from secrets),
# INPUT_HEADERS (one 'Name: value' a line), INPUT_SERVER_CA (PEM text, or a path),
# INPUT_CHECKS, INPUT_SPEC, INPUT_EXTRA_ARGS (one argument a line; a single line is split on
# whitespace), INPUT_FAIL_ON, INPUT_MIN_SCORE, INPUT_BASELINE, INPUT_OUTPUT_DIR,
# INPUT_SARIF_CATEGORY, INPUT_ANNOTATIONS (true/false). AUTHPROBE_BIN overrides the binary:
# the Action sets it to scripts/authprobe-docker.sh to run the container image.
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
# Headers, one a line: each its own argument, so a value with spaces stays whole. They often
# carry an API key: their values are masked in the log.
while IFS= read -r line; do
  line="${line%$'\r'}"
  [[ -z "${line//[[:space:]]/}" ]] && continue
  args+=(-H "$line")
  value="${line#*:}"
  value="${value#"${value%%[![:space:]]*}"}"
  if [[ ${#value} -ge 6 ]]; then
    echo "::add-mask::$value"
  fi
done <<<"${INPUT_HEADERS:-}"
server_ca="${INPUT_SERVER_CA:-}"
if [[ -n "${server_ca//[[:space:]]/}" ]]; then
  if [[ "$server_ca" == *"-----BEGIN"* ]]; then
    printf '%s\n' "$server_ca" >"$secrets_dir/server-ca.pem"
    args+=(--server-ca "$secrets_dir/server-ca.pem")
  else
    args+=(--server-ca "$server_ca")
  fi
fi
checks="${INPUT_CHECKS:-}"
if [[ -n "${checks//[[:space:]]/}" ]]; then
  # Commas, spaces or newlines between ids: authprobe takes a comma-separated list.
  checks="$(printf '%s' "$checks" | tr -s ' \t\r\n,' ',')"
  checks="${checks#,}"
  args+=(--checks "${checks%,}")
fi
if [[ -n "${INPUT_SPEC:-}" ]]; then
  if ! "$bin" scan --help 2>/dev/null | grep -q -- '--spec'; then
    echo "::error::authprobe action: the spec input needs an authprobe whose scan has --spec; $("$bin" --version 2>/dev/null || echo "$bin") has none (set the version input to a newer release)" >&2
    exit 2
  fi
  args+=(--spec "$INPUT_SPEC")
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
# One argument a line, so `-H` and `X-Team: blue team` on two lines stay two arguments. A
# single line is split on whitespace, as before (`extra-args: --origin URL --checks jwt`).
extra_lines=()
while IFS= read -r line; do
  line="${line%$'\r'}"
  line="${line#"${line%%[![:space:]]*}"}"
  line="${line%"${line##*[![:space:]]}"}"
  if [[ -n "$line" ]]; then
    extra_lines+=("$line")
  fi
done <<<"${INPUT_EXTRA_ARGS:-}"
if [[ ${#extra_lines[@]} -eq 1 ]]; then
  read -r -a extra <<<"${extra_lines[0]}"
  args+=("${extra[@]}")
elif [[ ${#extra_lines[@]} -gt 1 ]]; then
  args+=("${extra_lines[@]}")
fi

# The SARIF category for github/codeql-action/upload-sarif: one per target, so that scans
# of several URLs from one workflow do not replace each other's alerts.
category="${INPUT_SARIF_CATEGORY:-}"
if [[ -z "$category" ]]; then
  target="${url#*://}"
  target="${target%%[?#]*}"
  category="authprobe/${target%/}"
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
# One annotation per finding (error for critical and high, warning for medium, notice
# below), on the run's summary page. Needs jq, as GitHub's runners have.
annotate() {
  jq -r '
    def data: gsub("%"; "%25") | gsub("\r"; "%0D") | gsub("\n"; "%0A");
    def prop: data | gsub(":"; "%3A") | gsub(","; "%2C");
    .target as $target
    | .findings[]
    | (if .severity == "critical" or .severity == "high" then "error"
       elif .severity == "medium" then "warning" else "notice" end) as $level
    | "::\($level) title=\("authprobe \(.id) (\(.severity))" | prop)::\("\(.title) at \($target)" | data)"
  ' "$json"
}
if [[ "${INPUT_ANNOTATIONS:-true}" == "true" ]]; then
  if command -v jq >/dev/null; then
    annotate
  else
    echo "authprobe action: no jq on this runner, so no annotations (the reports have every finding)"
  fi
fi

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
    echo "sarif-category=$category"
  } >>"$GITHUB_OUTPUT"
fi
if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
  cat "$md" >>"$GITHUB_STEP_SUMMARY"
fi
echo "authprobe: score $score, grade $grade, $findings findings; reports in $out_dir"
exit "$status"
