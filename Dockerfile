# fxrecon in a container (issue 24). No Docker engine runs on the machines this was written on:
# crates/fxrecon/tests/containers.rs checks that what these files run exists and accepts its
# arguments, but the images themselves are built only where Docker is (.github/workflows/ci.yml).
#
# Builder: the toolchain, what the Aeron build needs (scripts/bootstrap.sh: apt packages and
# cmake >= 3.30) and the compiled tree. RUSTERON_C_MARCH keeps the Aeron C code portable
# (otherwise it is built with -march=native and may die with SIGILL elsewhere, D61).
FROM rust:1-bookworm AS builder
ENV RUSTERON_C_MARCH=x86-64-v2 FXRECON_TOOLS_DIR=/opt/fxrecon-tools
WORKDIR /src
COPY . .
RUN bash -c "source scripts/bootstrap.sh && cargo build --release --locked -p fxrecon"

# Runtime: the binary and its config only.
FROM debian:bookworm-slim AS runtime
RUN apt-get update && apt-get install -y --no-install-recommends libbsd0 libuuid1 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=builder /src/target/release/fxrecon /usr/local/bin/fxrecon
COPY deploy/fxrecon.toml /etc/fxrecon/fxrecon.toml
VOLUME /var/lib/fxrecon
ENTRYPOINT ["fxrecon"]
CMD ["run", "--config", "/etc/fxrecon/fxrecon.toml", "--out", "/var/lib/fxrecon/divergences.jsonl", "--rejects", "/var/lib/fxrecon/rejects.jsonl", "--journal", "/var/lib/fxrecon/journal", "--state-dir", "/dev/shm/fxrecon"]
