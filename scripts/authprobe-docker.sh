#!/usr/bin/env bash
# `authprobe ARGS...` run from the container image AUTHPROBE_IMAGE, as if it were installed:
# the GitHub Action sets AUTHPROBE_BIN to this script (see action.yml, scripts/action-run.sh).
#
# - The host's network (--network host): a target on localhost, a service container or a
#   server started by an earlier step is reached as from the runner itself.
# - The runner's user (--user uid:gid): reports are written as the runner, not as root nor
#   as the image's own user, so later steps can read and remove them.
# - Paths are the same inside and out: the working directory, $GITHUB_WORKSPACE and
#   $RUNNER_TEMP are mounted at their own paths, and so is the directory of every absolute
#   path among the arguments (-o /somewhere/report.json, --wordlist /usr/share/...).
# - Secrets go by name only (-e NAME), never by value on docker's command line:
#   AUTHPROBE_* (the bearer token, Basic pair, key passphrase...), RUST_LOG, NO_COLOR,
#   CLICOLOR_FORCE and the proxy variables are passed on when set.
set -euo pipefail

image="${AUTHPROBE_IMAGE:?AUTHPROBE_IMAGE names the authprobe image to run}"
docker="${AUTHPROBE_DOCKER:-docker}"

run=(run --rm --network host --user "$(id -u):$(id -g)" -e HOME=/tmp -w "$PWD")

mounted=()
# Mount DIR at its own path unless it, or a directory above it, is mounted already.
mount_dir() {
  local dir="$1" m
  [[ -d "$dir" && "$dir" == /* && "$dir" != / ]] || return 0
  for m in "${mounted[@]}"; do
    [[ "$dir" == "$m" || "$dir" == "$m"/* ]] && return 0
  done
  mounted+=("$dir")
  run+=(-v "$dir:$dir")
}
# The nearest existing directory of PATH (an output file need not exist yet).
mount_path() {
  local p="$1"
  while [[ "$p" == /* && "$p" != / && ! -d "$p" ]]; do
    p="$(dirname "$p")"
  done
  mount_dir "$p"
}

mount_dir "$PWD"
mount_dir "${GITHUB_WORKSPACE:-}"
mount_dir "${RUNNER_TEMP:-}"
for arg in "$@"; do
  case "$arg" in
    /*) mount_path "$arg" ;;
    --*=/*) mount_path "${arg#*=}" ;;
  esac
done

while IFS= read -r name; do
  run+=(-e "$name")
done < <(compgen -e | grep -E '^(AUTHPROBE_[A-Z0-9_]+|RUST_LOG|NO_COLOR|CLICOLOR_FORCE|HTTPS?_PROXY|https?_proxy|NO_PROXY|no_proxy)$' | grep -vE '^AUTHPROBE_(IMAGE|DOCKER|BIN)$' || true)

exec "$docker" "${run[@]}" "$image" "$@"
