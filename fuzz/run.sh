#!/usr/bin/env bash
# Run every fuzz target for a bounded time (SECONDS_PER_TARGET, default 60), seeded with the
# committed fixtures. Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
set -euo pipefail
cd "$(dirname "$0")"
secs=${SECONDS_PER_TARGET:-60}
mkdir -p corpus/wheel_filename corpus/elf corpus/wheel_reader
for f in ../fixtures/wheels/*/*.whl; do
  basename "$f" >"corpus/wheel_filename/$(basename "$f").txt"
  cp "$f" corpus/wheel_reader/
done
cp ../fixtures/elf/*.so corpus/elf/
for target in wheel_filename elf wheel_reader; do
  echo "fuzz: $target for ${secs}s" >&2
  cargo +nightly fuzz run "$target" "corpus/$target" -- -max_total_time="$secs" -max_len=65536
done
