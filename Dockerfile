# authprobe in a container: `docker build -t authprobe .`, then
#   docker run --rm authprobe scan https://api.example.com/v1/me
#   docker run --rm --network host -e AUTHPROBE_BEARER -v "$PWD:$PWD" -w "$PWD" authprobe scan ... -o report.json
# The GitHub Action (action.yml) runs the image that .github/workflows/release.yml builds
# from this file and pushes to ghcr.io on each version tag.

# Build stage: the whole workspace (authprobe's path dependencies are its sibling crates),
# compiled with the committed lockfile and the release profile of Cargo.toml.
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
RUN cargo build --release --locked -p authprobe \
    && install -D -m 0755 target/release/authprobe /out/authprobe

# Runtime stage: the binary, the CA store (the server certificate is verified against the
# system store unless --server-ca is given) and curl (every finding's evidence is a curl line
# to reproduce it). No compiler, no sources.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 authprobe \
    && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/authprobe \
        --shell /usr/sbin/nologin authprobe
COPY --from=build /out/authprobe /usr/local/bin/authprobe
# Numeric, so that a runtime can check it is not root (Kubernetes runAsNonRoot).
USER 10001:10001
WORKDIR /home/authprobe
ENTRYPOINT ["authprobe"]
CMD ["--help"]
