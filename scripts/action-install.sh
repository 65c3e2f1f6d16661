#!/usr/bin/env bash
# The GitHub Action's first step (action.yml): decide how authprobe runs on this runner.
#
#   image   docker pull ghcr.io/<owner>/authprobe:<version> (seconds), then run it through
#           scripts/authprobe-docker.sh. The default on Linux runners.
#   source  cargo install from the action's own checkout (minutes on a cold cache, then
#           cached): for `version: source`, runners without docker (macOS, Windows), or an
#           image that cannot be pulled (not published yet, a fork without a release).
#
# Inputs (environment): INPUT_VERSION ('' = the version in the action's Cargo.toml,
# 'source', 'latest', or X.Y.Z with or without a leading v), INPUT_IMAGE ('' =
# ghcr.io/<owner of the action's repository>/authprobe), GITHUB_ACTION_PATH,
# GITHUB_REPOSITORY_OWNER, RUNNER_OS. AUTHPROBE_DOCKER overrides the docker client (tests).
# Writes mode=image|source, image=REF and bin=PATH to $GITHUB_OUTPUT (or stdout).
set -euo pipefail

action_path="${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}"
docker="${AUTHPROBE_DOCKER:-docker}"
out="${GITHUB_OUTPUT:-/dev/stdout}"

version="${INPUT_VERSION:-}"
version="${version#v}"
if [[ -z "$version" ]]; then
  version="$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' "$action_path/Cargo.toml")"
fi

image="${INPUT_IMAGE:-}"
if [[ -z "$image" ]]; then
  # A remote action is checked out at .../_actions/OWNER/REPO/REF; a local one (uses: ./)
  # is this repository, whose owner GitHub gives.
  owner="${GITHUB_REPOSITORY_OWNER:-}"
  if [[ "$action_path" == */_actions/*/*/* ]]; then
    rest="${action_path#*/_actions/}"
    owner="${rest%%/*}"
  fi
  if [[ -z "$owner" ]]; then
    echo "::error::authprobe action: cannot tell whose image to run; set the image input" >&2
    exit 2
  fi
  image="ghcr.io/$(printf '%s' "$owner" | tr '[:upper:]' '[:lower:]')/authprobe"
fi
ref="$image:$version"

mode=image
if [[ "$version" == "source" ]]; then
  mode=source
elif [[ "${RUNNER_OS:-Linux}" != "Linux" ]] || ! command -v "$docker" >/dev/null 2>&1; then
  echo "::notice::authprobe action: no Linux docker on this runner (${RUNNER_OS:-?}); building authprobe from source instead of running $ref"
  mode=source
elif ! "$docker" pull --quiet "$ref"; then
  echo "::warning::authprobe action: could not pull $ref (not published for this version?); building authprobe from source instead, which takes minutes. Set the version input to a published release, or to 'source' to silence this."
  mode=source
fi

if [[ "$mode" == image ]]; then
  bin="$action_path/scripts/authprobe-docker.sh"
  echo "authprobe: running $ref"
else
  bin=authprobe
  ref=""
fi
{
  echo "mode=$mode"
  echo "image=$ref"
  echo "bin=$bin"
} >>"$out"
