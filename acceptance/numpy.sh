#!/usr/bin/env bash
# Issue 4's "done when": cross-build numpy (meson-python, no flags from the user), msgpack, markupsafe
# and six for armv7l, verify the wheelhouse, and use numpy on the emulated target. Too slow for CI
# (numpy builds for several minutes); run it by hand: bash acceptance/numpy.sh [wheelhouse]
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup
cargo build --release --locked
pyx=target/release/pyx
out=${1:-wh}

$pyx wheel numpy==2.4.6 msgpack markupsafe six --target armv7l -w "$out" --report "$out/report.json"
ls "$out"/numpy-2.4.6-cp311-cp311-linux_armv7l.whl
$pyx verify "$out" --target armv7l
$pyx test --target armv7l "$out"/*.whl -- python -c "import numpy, msgpack, markupsafe; assert int(numpy.arange(10).sum()) == 45"

start=$(date +%s%N)
$pyx wheel numpy==2.4.6 msgpack markupsafe six --target armv7l -w "$out" -q >/dev/null
echo "acceptance: no-op rerun took $(( ($(date +%s%N) - start) / 1000000 )) ms (should be under 2000)"
echo "acceptance: numpy done-when passed; wheels in $out/"
