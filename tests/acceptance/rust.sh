#!/usr/bin/env bash
# Issue 9's "done when": Rust extensions cross-built from their sdists with Debian's Rust (or the
# user's, when it has the target): bcrypt (setuptools-rust), orjson (maturin) and cryptography
# (maturin, openssl-sys against the sysroot's libssl-dev) for armv7l and aarch64, bcrypt and orjson
# for i686 and ppc64le; each wheelhouse verified and used on the emulated target. Too slow for CI
# (cryptography compiles for minutes per target on 2 cores); run it by hand:
#   bash tests/acceptance/rust.sh [out-dir] [target...]
set -euo pipefail
cd "$(dirname "$0")/../.."
bash .ci/setup
cargo build --release --locked
pyx=$PWD/target/release/pyx
out=${1:-wh-rust}
(($#)) && shift
if (($#)); then targets=("$@"); else targets=(armv7l aarch64 i686 ppc64le); fi

uses_bcrypt_orjson='
import datetime, bcrypt, orjson
h = bcrypt.hashpw(b"pyx-secret", bcrypt.gensalt(rounds=4))
assert bcrypt.checkpw(b"pyx-secret", h) and not bcrypt.checkpw(b"wrong", h)
d = {"when": datetime.datetime(2026, 12, 1, 23, 59, 1, tzinfo=datetime.timezone.utc), "n": [1, 2.5, None]}
assert orjson.loads(orjson.dumps(d)) == {"when": "2026-12-01T23:59:01+00:00", "n": [1, 2.5, None]}
'
uses_cryptography='
from cryptography.fernet import Fernet
from cryptography.hazmat.backends.openssl import backend
f = Fernet(Fernet.generate_key())
assert f.decrypt(f.encrypt(b"cross-built")) == b"cross-built"
print("cryptography with", backend.openssl_version_text())
'

for target in "${targets[@]}"; do
  packages=(bcrypt orjson)
  case $target in
    # orjson 3.11.0 to 3.13.0's build.rs turns on its AVX-512 code when the *build script's* arch
    # (always x86_64 here) is x86_64 and Python is 64-bit, and reads no variable to turn it off, so
    # it cannot be cross-built for a 64-bit target (rustc: "the feature named `avx512f` is not
    # valid for this target"); 3.10.18 predates that. See docs/wheel.md, troubleshooting.
    aarch64 | ppc64le) packages=(bcrypt orjson==3.10.18) ;;
  esac
  code=$uses_bcrypt_orjson
  case $target in
    armv7l | aarch64)
      packages+=(cryptography)
      code+=$uses_cryptography
      ;;
  esac
  wh=$out/$target
  start=$(date +%s)
  # cryptography links the target's OpenSSL (libssl-dev); its runtime dependency cffi, built from
  # its sdist too under `--no-binary :all:`, needs libffi-dev.
  $pyx wheel "${packages[@]}" --no-binary :all: --with libssl-dev,libffi-dev --target "$target" \
    -w "$wh" --report "$wh/report.json"
  echo "acceptance: $target: ${packages[*]} built in $(($(date +%s) - start)) s"
  $pyx verify "$wh" --target "$target"
  $pyx test --target "$target" "$wh"/*.whl -- python -c "$code
import platform; print(platform.machine(), \"ok\")"
done
echo "acceptance: Rust done-when passed for ${targets[*]}; wheels in $out/"
