#!/usr/bin/env bash
# Issue 4's "done when": cross-build numpy (meson-python, no flags from the user), msgpack, markupsafe
# and six for armv7l, verify the wheelhouse, and use numpy on the emulated target. Too slow for CI
# (numpy builds for several minutes on 2 cores); run it by hand:
#   bash tests/acceptance/numpy.sh [--python 3.13] [--target riscv64] [wheelhouse]
# --python 3.13 builds against Debian 13 (trixie) with a build Python 3.13 (found or provisioned).
set -euo pipefail
cd "$(dirname "$0")/../.."
python=3.11
target=armv7l
while (($#)); do
  case $1 in
    --python) python=$2; shift 2 ;;
    --target) target=$2; shift 2 ;;
    *) break ;;
  esac
done
bash .ci/setup
cargo build --release --locked
pyx=target/release/pyx
out=${1:-wh-$target-$python}
cp=cp${python/./}
on=(--target "$target" --python "$python")

$pyx wheel numpy==2.4.6 msgpack markupsafe six "${on[@]}" -w "$out" --report "$out/report.json"
ls "$out"/numpy-2.4.6-$cp-$cp-linux_$target.whl
$pyx verify "$out" "${on[@]}"
$pyx test "${on[@]}" "$out"/*.whl -- python -c "import numpy, msgpack, markupsafe; assert int(numpy.arange(10).sum()) == 45; print(numpy.finfo(numpy.longdouble))"

start=$(date +%s%N)
$pyx wheel numpy==2.4.6 msgpack markupsafe six "${on[@]}" -w "$out" -q >/dev/null
echo "acceptance: no-op rerun took $(( ($(date +%s%N) - start) / 1000000 )) ms (should be under 2000)"
echo "acceptance: numpy done-when passed; wheels in $out/"
