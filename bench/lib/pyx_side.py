"""pyx itself: `pyx wheel` cold and warm, `pyx env create`, and its overhead over the compilers."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from common import (LOGS, NO_BINARY, TARGET, WORK, Timed, base_env, compiler_time, fresh_dir,
                    loadavg, run, tail)

SYSROOT_CACHE = WORK / "cache-sysroot"
PYX_CACHE = WORK / "pyx-cache"
SYSROOT_NAME = "armhf-python3.11"


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


def empty_cache() -> Path:
    """A PYX_CACHE_DIR holding only the sysroot (linked), as after `pyx sysroot add`."""
    fresh_dir(PYX_CACHE)
    (PYX_CACHE / "sysroots").mkdir()
    (PYX_CACHE / "sysroots" / SYSROOT_NAME).symlink_to(SYSROOT_CACHE / "sysroots" / SYSROOT_NAME)
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


def measure_wheel(pyx: Path, name: str, reqs: list[str], cold: bool, out: Path,
                  path_prefix: str, cc_log: Path) -> Timed:
    logf = LOGS / f"pyx-{name}-{'cold' if cold else 'warm'}-{int(time.time())}.log"
    if cold:
        empty_cache()
    fresh_dir(out)
    report = out.parent / f"{out.name}-{'cold' if cold else 'warm'}-report.json"
    cmd = [str(pyx), "-v", "wheel", "--target", TARGET, "-w", str(out), "--report", str(report),
           "--no-binary", NO_BINARY, *reqs]
    cc_log.unlink(missing_ok=True)
    before = loadavg()
    start = time.time()
    seconds, code = run(cmd, logf, env=env_for(path_prefix, cc_log))
    end = time.time()
    timed = Timed(round(seconds, 3), code == 0, before, loadavg(), str(logf),
                  error=None if code == 0 else tail(logf, 8))
    cc = compiler_time(cc_log, (start, end))
    timed.phases = {"compiler_union": cc["union"], "compiler_sum": cc["sum"],
                    "compiler_calls": cc["calls"],
                    "overhead": round(seconds - cc["union"], 3),
                    "overhead_share": round((seconds - cc["union"]) / seconds, 4) if seconds else None}
    if report.exists():
        timed.phases["report"] = str(report)
    return timed


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
