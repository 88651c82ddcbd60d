"""The emulated native build: Debian's armhf python3.11 and gcc running under qemu-arm user mode.

Without binfmt_misc, an emulated program cannot exec another target binary (gcc -> cc1 fails with
`Exec format error`), and qemu-arm 7.2 maps `-L` paths for open() but not for stat()/statx(), so
gcc drops include dirs that exist only in the root. The wrappers below make the chain work:
  bin/python3.11      host script: qemu-arm -L ROOT -0 <itself> ROOT/usr/bin/python3.11, so that
                      sys.executable (which pip re-runs for build isolation) is this script again
  bin/gcc, bin/cc,    host script: qemu-arm ROOT/usr/bin/gcc-12 -B libexec/ --sysroot=ROOT, with
  bin/<triplet>-gcc   -I/usr/... and -L/usr/... from the target's sysconfig mapped into ROOT
  libexec/cc1, as,    host scripts running the root's cc1/as/collect2/ld under qemu-arm; gcc finds
  collect2, ld, ...   them through -B (collect2 finds ld through gcc's COMPILER_PATH)
Every compiler, assembler and linker process therefore runs emulated, as in a `docker --platform
linux/arm/v7` build; only the tiny wrapper shells run natively.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from common import (LOGS, NO_BINARY, TARGET, TRIPLET, WORK, Timed, base_env, compiler_time,
                    fresh_dir, loadavg, log, run, tail)

CACHE = WORK / "cache-native"
WRAP = WORK / "native-wrap"
SITE = WORK / "native-site"
PACKAGES = ["gcc", "libc6-dev", "binutils"]


def _write(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
        path.chmod(0o755)


def setup(pyx: Path) -> Path:
    """Provision a root with the target's gcc (separate cache), the wrappers, pip for the target."""
    env = base_env()
    env["PYX_CACHE_DIR"] = str(CACHE)
    args = [str(pyx), "sysroot", "add", TARGET] + [a for p in PACKAGES for a in ("--with", p)]
    root = CACHE / "sysroots" / "armhf-python3.11"
    if not (root / "usr" / "bin" / "gcc-12").exists():
        log("provisioning the emulated root (python3.11 + gcc for armhf) into " + str(CACHE))
        subprocess.check_call(args, env=env)
    gcc_dir = next((root / "usr" / "lib" / "gcc" / TRIPLET).iterdir())
    (WRAP / "bin").mkdir(parents=True, exist_ok=True)
    (WRAP / "libexec").mkdir(parents=True, exist_ok=True)
    tools = {t: gcc_dir / t for t in ("cc1", "cc1plus", "collect2", "lto-wrapper", "lto1")}
    tools["as"] = root / "usr" / "bin" / f"{TRIPLET}-as"
    tools["ld"] = root / "usr" / "bin" / f"{TRIPLET}-ld"
    for name, real in tools.items():
        if real.exists():
            _write(WRAP / "libexec" / name, f'#!/bin/sh\nexec qemu-arm -L {root} {real} "$@"\n')
    driver = f"""#!/bin/bash
args=()
for a in "$@"; do
  case $a in
    -I/usr/*|-L/usr/*|-L/lib/*) args+=("${{a:0:2}}{root}${{a:2}}") ;;
    *) args+=("$a") ;;
  esac
done
s=$EPOCHREALTIME
qemu-arm -L {root} {root}/usr/bin/gcc-12 -B{WRAP}/libexec/ --sysroot={root} "${{args[@]}}"
rc=$?
[ -n "$BENCH_CC_LOG" ] && printf '%s %s %s gcc\\n' "$s" "$EPOCHREALTIME" "$rc" >> "$BENCH_CC_LOG"
exit $rc
"""
    for name in ("gcc", "cc", f"{TRIPLET}-gcc"):
        _write(WRAP / "bin" / name, driver)
    python = f'#!/bin/sh\nPYTHONHOME={root}/usr exec qemu-arm -L {root} -0 "$0" {root}/usr/bin/python3.11 "$@"\n'
    _write(WRAP / "bin" / "python3.11", python)
    if not (SITE / "pip").exists():
        log("installing pip, setuptools and wheel (pure wheels) for the target python")
        subprocess.check_call(["python3", "-m", "pip", "install", "-q", "--no-deps", "--only-binary",
                               ":all:", "--target", str(SITE), "pip", "setuptools", "wheel"],
                              env=base_env())
    return root


def measure(reqs: list[str], out: Path) -> Timed:
    """`pip wheel` of the sdists by the target's python under qemu, empty pip cache (cold)."""
    logf = LOGS / f"emulated-{int(time.time())}.log"
    cache = fresh_dir(WORK / "native-pip-cache")
    fresh_dir(out)
    env = base_env()
    env["PATH"] = f"{WRAP / 'bin'}:{env['PATH']}"
    env["PYTHONPATH"] = str(SITE)
    env["PIP_CACHE_DIR"] = str(cache)
    cc_log = WORK / "emulated-cc.log"
    cc_log.unlink(missing_ok=True)
    env["BENCH_CC_LOG"] = str(cc_log)
    before = loadavg()
    seconds, code = run([str(WRAP / "bin" / "python3.11"), "-m", "pip", "wheel", "--no-deps",
                         "--no-binary", NO_BINARY, "-w", str(out), *reqs], logf, env=env)
    cc = compiler_time(cc_log)
    return Timed(round(seconds, 3), code == 0, before, loadavg(), str(logf),
                 {"compiler_union": cc["union"], "compiler_calls": cc["calls"]},
                 error=None if code == 0 else tail(logf, 6))


def available() -> bool:
    return shutil.which("qemu-arm") is not None
