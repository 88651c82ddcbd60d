"""crossenv (from PyPI) driven the way its docs say: a cross venv for the Debian armhf Python,
build tools installed with build-pip, packages built with cross-pip, a hand-written meson cross file."""

from __future__ import annotations

import runpy
import subprocess
import time
from pathlib import Path

from common import (LOGS, NO_BINARY, TRIPLET, WORK, Timed, base_env, compiler_time, fresh_dir,
                    loadavg, log, run, tail)

VENV = WORK / "crossenv-venv"
ROOT = WORK / "crossenv"
CROSSENV_VERSION = "1.6.2"
# What a crossenv user installs with build-pip before building with --no-build-isolation:
# the union of the three packages' [build-system] requires, as build-machine wheels.
BUILD_TOOLS = {
    "small": ["setuptools", "wheel"],
    "numpy": ["Cython>=3.0.6", "meson-python>=0.15.0", "meson", "ninja"],
}


def setup() -> str:
    """The venv holding crossenv itself (not timed); returns crossenv's version."""
    if not (VENV / "bin" / "python").exists():
        log("creating the venv for crossenv")
        subprocess.check_call(["python3", "-m", "venv", str(VENV)])
    code = subprocess.call([str(VENV / "bin" / "python"), "-c", "import crossenv"],
                           stderr=subprocess.DEVNULL)
    if code != 0:
        subprocess.check_call([str(VENV / "bin" / "pip"), "install", "-q",
                               f"crossenv=={CROSSENV_VERSION}"], env=base_env())
    out = subprocess.run([str(VENV / "bin" / "python"), "-m", "crossenv", "--version"],
                         capture_output=True, text=True)
    return (out.stdout or out.stderr).strip()


def _sysconfig_vars(sysroot: Path) -> dict:
    lib = sysroot / "usr" / "lib" / "python3.11"
    data = sorted(lib.glob(f"_sysconfigdata__{TRIPLET}.py")) or sorted(lib.glob("_sysconfigdata_*.py"))
    return runpy.run_path(str(data[0]))["build_time_vars"]


def create_args(sysroot: Path, env_dir: Path) -> list[str]:
    """`python -m crossenv` for the sysroot's python3.11.

    Debian's libc.so is a linker script with absolute paths, so every link needs `--sysroot`.
    crossenv keeps only the first word of a compound `--cc` and its `--env VAR+=` appends without a
    space on every nested interpreter start (measured; see docs/benchmarks.md), so the sysroot goes
    into the compiler variables with `--config-var`, keeping the target's own CFLAGS and -O2.
    """
    v = _sysconfig_vars(sysroot)
    s = f"--sysroot={sysroot}"

    def with_sysroot(value: str) -> str:
        words = value.split()
        return " ".join([words[0], s] + words[1:])

    args = [str(VENV / "bin" / "python"), "-m", "crossenv", str(sysroot / "usr" / "bin" / "python3.11"),
            str(env_dir), "--cc", f"{TRIPLET}-gcc", "--cxx", f"{TRIPLET}-g++", "--ar", f"{TRIPLET}-ar",
            "--sysroot", str(sysroot), "--machine", "armv7l"]
    for key in ("CC", "CXX", "LDSHARED", "BLDSHARED", "LDCXXSHARED"):
        if v.get(key):
            args += ["--config-var", f"{key}={with_sysroot(v[key])}"]
    return args


def meson_cross_file(sysroot: Path, path: Path) -> Path:
    """The cross file a crossenv user writes by hand for numpy (meson has no other way to know)."""
    s = f"'--sysroot={sysroot}'"
    text = f"""[binaries]
c = '{TRIPLET}-gcc'
cpp = '{TRIPLET}-g++'
ar = '{TRIPLET}-ar'
strip = '{TRIPLET}-strip'
pkg-config = 'pkg-config'

[built-in options]
c_args = [{s}]
c_link_args = [{s}]
cpp_args = [{s}]
cpp_link_args = [{s}]

[properties]
sys_root = '{sysroot}'
pkg_config_libdir = ['{sysroot}/usr/lib/{TRIPLET}/pkgconfig', '{sysroot}/usr/share/pkgconfig']
longdouble_format = 'IEEE_DOUBLE_LE'

[host_machine]
system = 'linux'
cpu_family = 'arm'
cpu = 'armv7l'
endian = 'little'
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


class CrossenvSide:
    """One crossenv working dir: env, pip cache, output; cold = all of it from nothing."""

    def __init__(self, sysroot: Path, path_prefix: str, cc_log: Path):
        self.sysroot = sysroot
        self.env_dir = ROOT / "env"
        self.pip_cache = ROOT / "pip-cache"
        self.cross_file = meson_cross_file(sysroot, ROOT / "numpy-cross.ini")
        self.cc_log = cc_log
        self.env = base_env()
        # What `. env/bin/activate` puts on PATH, plus build/bin: the activate script leaves out
        # the build tools installed with build-pip, and meson must find `cython` and `ninja`.
        bins = [self.env_dir / "cross" / "bin", self.env_dir / "bin", self.env_dir / "build" / "bin"]
        self.env["PATH"] = ":".join([*map(str, bins), path_prefix, self.env["PATH"]])
        self.env["VIRTUAL_ENV"] = str(self.env_dir / "cross")
        self.env["PIP_CACHE_DIR"] = str(self.pip_cache)
        self.env["BENCH_CC_LOG"] = str(cc_log)

    def create_env(self, logf: Path) -> tuple[float, int]:
        if self.env_dir.exists():
            fresh_dir(self.env_dir)
            self.env_dir.rmdir()
        return run(create_args(self.sysroot, self.env_dir), logf, env=self.env)

    def tool_path(self, name: str) -> str:
        return str(self.env_dir / "bin" / name)

    def install_tools(self, tools: list[str], logf: Path) -> tuple[float, int]:
        return run([self.tool_path("build-pip"), "install", "-U", *tools], logf, env=self.env)

    def build(self, reqs: list[str], out: Path, logf: Path) -> tuple[float, int]:
        cmd = [self.tool_path("cross-pip"), "wheel", "--no-deps", "--no-build-isolation",
               "--no-binary", NO_BINARY, "-w", str(out)]
        if any(r.startswith("numpy") for r in reqs):
            cmd += [f"-Csetup-args=--cross-file={self.cross_file}"]
        return run(cmd + reqs, logf, env=self.env)

    def measure(self, name: str, reqs: list[str], cold: bool, out: Path) -> Timed:
        """Cold: new env, empty pip cache, tools, build. Warm: tools (no-op) and build again."""
        logf = LOGS / f"crossenv-{name}-{'cold' if cold else 'warm'}-{int(time.time())}.log"
        fresh_dir(out)
        if cold:
            fresh_dir(self.pip_cache)
        before = loadavg()
        phases, total, code = {}, 0.0, 0
        steps = [("env", self.create_env)] if cold else []
        steps += [("tools", lambda f: self.install_tools(BUILD_TOOLS[name], f)),
                  ("build", lambda f: self.build(reqs, out, f))]
        start = time.time()
        for phase, step in steps:
            seconds, code = step(logf)
            phases[phase] = round(seconds, 3)
            total += seconds
            if code != 0:
                break
        cc = compiler_time(self.cc_log, (start, time.time()))
        phases["compiler_union"] = cc["union"]
        phases["compiler_calls"] = cc["calls"]
        error = None if code == 0 else f"exit {code}: {tail(logf, 6)}"
        return Timed(round(total, 3), code == 0, before, loadavg(), str(logf), phases, error)
