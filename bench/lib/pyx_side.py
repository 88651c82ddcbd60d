"""pyx itself: `pyx wheel` cold and warm, `pyx env create`, and its overhead over the compilers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from common import (LOGS, NO_BINARY, TARGET, TRIPLET, WORK, Timed, base_env, compiler_time, fresh_dir,
                    loadavg, run, run_staged, tail)

SYSROOT_CACHE = WORK / "cache-sysroot"
PYX_CACHE = WORK / "pyx-cache"


def implemented(pyx: Path, args: list[str]) -> bool:
    """False while the command is still the skeleton's stub ("... is not built yet")."""
    out = subprocess.run([str(pyx), *args], capture_output=True, text=True, env=base_env(),
                         cwd=WORK, timeout=120)
    return "not built yet" not in (out.stdout + out.stderr)


def sysroot(pyx: Path) -> Path:
    """The armhf root shared by the crossenv and pyx sides (pyx's own Debian provisioning)."""
    env = base_env()
    env["PYX_CACHE_DIR"] = str(SYSROOT_CACHE)
    subprocess.check_call([str(pyx), "-q", "sysroot", "add", TARGET], env=env,
                          stdout=subprocess.DEVNULL)
    out = subprocess.check_output([str(pyx), "sysroot", "path", TARGET], env=env, text=True)
    return Path(out.strip())


def empty_cache(keep_compiler_cache: bool = False) -> Path:
    """A PYX_CACHE_DIR holding only the sysroot (linked), as after `pyx sysroot add`; with
    `keep_compiler_cache`, also the compiler cache of earlier runs (`ccache/`): the wheel cache,
    downloads and build envs are gone, as in a CI job that keeps only its ccache directory."""
    kept = None
    ccache = PYX_CACHE / "ccache"
    if keep_compiler_cache and ccache.is_dir():
        kept = WORK / "ccache-kept"
        if kept.exists():
            shutil.rmtree(kept)
        ccache.rename(kept)
    fresh_dir(PYX_CACHE)
    (PYX_CACHE / "sysroots").mkdir()
    # every root `pyx sysroot add` made (its directory name follows the Debian release and arch)
    for root in (SYSROOT_CACHE / "sysroots").iterdir():
        (PYX_CACHE / "sysroots" / root.name).symlink_to(root)
    if kept is not None:
        kept.rename(ccache)
    return PYX_CACHE


def env_for(path_prefix: str, cc_log: Path) -> dict[str, str]:
    env = base_env()
    env["PATH"] = f"{path_prefix}:{env['PATH']}"
    env["PYX_CACHE_DIR"] = str(PYX_CACHE)
    env["BENCH_CC_LOG"] = str(cc_log)
    return env


def shim_log_summary(cache: Path) -> dict:
    """What the cross env's shim log holds: calls per tool, and whether it records durations."""
    calls, tools, timed = 0, {}, False
    for path in cache.rglob("*.jsonl"):
        if "shim" not in path.name:
            continue
        for line in path.read_text(errors="replace").splitlines():
            try:
                call = json.loads(line)
            except ValueError:
                continue
            calls += 1
            tools[call.get("tool", "?")] = tools.get(call.get("tool", "?"), 0) + 1
            timed = timed or any(k in call for k in ("seconds", "duration", "ms", "elapsed"))
    return {"calls": calls, "by_tool": tools, "has_durations": timed}


# How a measured `pyx wheel` run starts: what of the cache is left and what it passes.
MODES = {
    # empty cache but the sysroot (compiler cache included)
    "cold": {"cache": "empty"},
    # the wheel cache, downloads and build envs cleared, the compiler cache of the cold runs kept
    "rebuild": {"cache": "keep-ccache"},
    # everything from the runs before
    "warm": {"cache": "keep"},
    # cold, compile jobs sent to a distccd on 127.0.0.1 and no compiler cache (so they compile)
    "distcc": {"cache": "empty", "args": ["--compiler-cache", "none", "--compiler-launcher",
                                          "distcc"]},
    # cold, with the baseline binary (bench/run --baseline REV)
    "baseline": {"cache": "empty"},
}


def measure_wheel(pyx: Path, name: str, reqs: list[str], mode: str, out: Path,
                  path_prefix: str, cc_log: Path, extra_env: dict[str, str] | None = None) -> Timed:
    logf = LOGS / f"pyx-{name}-{mode}-{int(time.time())}.log"
    how = MODES[mode]
    if how["cache"] == "empty":
        empty_cache()
    elif how["cache"] == "keep-ccache":
        empty_cache(keep_compiler_cache=True)
    fresh_dir(out)
    report = out.parent / f"{out.name}-{mode}-report.json"
    report.unlink(missing_ok=True)
    cmd = [str(pyx), "-v", "wheel", "--target", TARGET, "-w", str(out), "--report", str(report),
           *how.get("args", []), "--no-binary", NO_BINARY, *reqs]
    cc_log.unlink(missing_ok=True)
    env = env_for(path_prefix, cc_log)
    env.update(extra_env or {})
    before = loadavg()
    start = time.time()
    seconds, code, stages = run_staged(cmd, logf, env=env)
    end = time.time()
    timed = Timed(round(seconds, 3), code == 0, before, loadavg(), str(logf),
                  error=None if code == 0 else tail(logf, 8))
    cc = compiler_time(cc_log, (start, end))
    timed.phases = {"compiler_union": cc["union"], "compiler_sum": cc["sum"],
                    "compiler_calls": cc["calls"],
                    "overhead": round(seconds - cc["union"], 3),
                    "overhead_share": round((seconds - cc["union"]) / seconds, 4) if seconds else None}
    timed.phases.update(stages)
    if report.exists():
        timed.phases["report"] = str(report)
        timed.phases.update(report_phases(json.loads(report.read_text()), seconds))
    return timed


def report_phases(report: dict, seconds: float) -> dict:
    """From `--report`: compiler time as the shims saw it (the compiler behind ccache/distcc),
    the overhead it leaves of the wall time, and the compiler cache's counts."""
    out: dict = {}
    compiler = report.get("compiler_seconds")
    if compiler is not None:
        out["report_compiler"] = round(compiler, 3)
        out["report_overhead"] = round(seconds - compiler, 3)
        out["report_overhead_share"] = round((seconds - compiler) / seconds, 4) if seconds else None
    cache = report.get("compiler_cache") or {}
    for key in ("compiles", "hits", "misses", "uncacheable", "hit_rate"):
        if cache.get(key) is not None:
            out[f"cache_{key}"] = cache[key]
    return out


def measure_env_create(pyx: Path, cold: bool, path_prefix: str, cc_log: Path) -> Timed:
    """`pyx env create DIR`: cold = empty cache but the sysroot; warm = a second env."""
    logf = LOGS / f"pyx-envcreate-{'cold' if cold else 'warm'}-{int(time.time())}.log"
    if cold:
        empty_cache()
    env_dir = WORK / "pyx-envs" / ("cold" if cold else f"warm-{time.time_ns()}")
    if env_dir.exists():
        fresh_dir(env_dir)
        env_dir.rmdir()
    env_dir.parent.mkdir(parents=True, exist_ok=True)
    before = loadavg()
    seconds, code = run([str(pyx), "env", "create", str(env_dir), "--target", TARGET], logf,
                        env=env_for(path_prefix, cc_log))
    return Timed(round(seconds, 3), code == 0, before, loadavg(), str(logf),
                 error=None if code == 0 else tail(logf, 6))


class LoopbackDistccd:
    """A distccd on 127.0.0.1 on a port of its own, serving only 127.0.0.1 and only the cross
    compilers (`DISTCC_CMDLIST`), as in tests/it/compiler_cache.rs; stopped with its workers."""

    def __init__(self, directory: Path, slots: int = 2):
        self.dir = fresh_dir(directory)
        self.log = self.dir / "distccd.log"
        self.slots = slots
        self.proc = None
        self.port = None

    def __enter__(self) -> "LoopbackDistccd":
        import socket

        compilers = [shutil.which(f"{TRIPLET}-{t}") for t in ("gcc", "g++")]
        # the real compilers, not the bench's timing wrappers: distccd runs what the client names
        cmdlist = self.dir / "cmdlist"
        cmdlist.write_text("".join(f"{c}\n" for c in compilers if c) +
                           "".join(f"{Path(c).resolve()}\n" for c in compilers if c))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = dict(os.environ, DISTCC_CMDLIST=str(cmdlist))
        self.proc = subprocess.Popen(
            ["distccd", "--daemon", "--no-detach", "--listen", "127.0.0.1", "--allow", "127.0.0.1",
             "--jobs", str(self.slots), "--log-stderr", "--log-level", "info",
             "--port", str(self.port)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(self.log, "wb"),
            env=env, start_new_session=True)
        deadline = time.time() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"distccd did not listen on {self.port}: {tail(self.log)}")
                time.sleep(0.05)
        return self

    def hosts(self) -> str:
        return f"127.0.0.1:{self.port}/{self.slots}"

    def jobs_served(self) -> int:
        """Compile jobs distccd ran to completion (its `COMPILE_OK` log lines)."""
        try:
            return self.log.read_text(errors="replace").count("COMPILE_OK")
        except OSError:
            return 0

    def __exit__(self, *exc) -> None:
        import signal

        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=30)
