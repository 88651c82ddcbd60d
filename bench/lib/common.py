"""Shared pieces of the benchmark: paths, timed commands, load, wheels, the compiler timing log."""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
WORK = BENCH / ".work"
RESULTS = BENCH / "results"
LOGS = WORK / "logs"

TARGET = "armv7l"
TRIPLET = "arm-linux-gnueabihf"
SMALL = ["markupsafe==3.0.4", "msgpack==1.2.4"]
NUMPY = ["numpy==2.4.6"]
NO_BINARY = "markupsafe,msgpack,numpy"

ELF_MACHINES = {3: "EM_386", 8: "EM_MIPS", 20: "EM_PPC", 21: "EM_PPC64", 22: "EM_S390",
                40: "EM_ARM", 62: "EM_X86_64", 183: "EM_AARCH64", 243: "EM_RISCV"}


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def loadavg() -> float:
    return round(os.getloadavg()[0], 2)


@dataclass
class Timed:
    """One timed command (or group of commands): wall seconds, exit status, load around it."""

    seconds: float
    ok: bool
    load_before: float
    load_after: float
    log: str
    phases: dict[str, float] = field(default_factory=dict)
    error: str | None = None


def run(cmd: list[str], log_path: Path, env: dict[str, str] | None = None,
        cwd: Path | None = None, check: bool = False) -> tuple[float, int]:
    """Run `cmd` with output appended to `log_path`; return (wall seconds, exit code)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        start = time.perf_counter()
        code = subprocess.call(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        seconds = time.perf_counter() - start
    if check and code != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` failed with exit code {code}; see {log_path}")
    return seconds, code


def run_staged(cmd: list[str], log_path: Path, env: dict[str, str] | None = None
               ) -> tuple[float, int, dict[str, float]]:
    """`run` for `pyx wheel`: also when each `pyx: <package>: <stage>` line arrived (seconds
    from the start; first `building`, last `auditing`), to time pyx's own head and tail."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    stages: dict[str, float] = {}
    with open(log_path, "ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, env=env)
        for line in proc.stderr:
            now = time.perf_counter() - start
            out.write(line)
            text = line.decode(errors="replace")
            if text.startswith("pyx: ") and text.rstrip().endswith(": building"):
                stages.setdefault("first_building", round(now, 3))
            elif text.startswith("pyx: ") and text.rstrip().endswith(": auditing"):
                stages["last_auditing"] = round(now, 3)
        code = proc.wait()
        seconds = time.perf_counter() - start
    if "last_auditing" in stages:
        stages["tail"] = round(seconds - stages["last_auditing"], 3)
    return seconds, code, stages


def tail(path: Path, lines: int = 12) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def fresh_dir(path: Path) -> Path:
    """An empty `path`; files that vanish meanwhile (pyx's background removal of its scratch
    dirs may still run) are fine."""
    def vanished(_func, _path, exc):
        if not isinstance(exc[1], FileNotFoundError):
            raise exc[1]

    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path, onerror=vanished)
    path.mkdir(parents=True)
    return path


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def base_env() -> dict[str, str]:
    """The caller's environment without pip settings that would make runs differ."""
    env = dict(os.environ)
    for key in ("PIP_FIND_LINKS", "PIP_NO_CACHE_DIR", "PIP_REQUIRE_VIRTUALENV", "VIRTUAL_ENV",
                "PYTHONPATH", "PYTHONHOME", "CFLAGS", "CPPFLAGS", "LDFLAGS", "CC", "CXX"):
        env.pop(key, None)
    return env


# ---- compiler timing -------------------------------------------------------------------------

TIMING_BIN = WORK / "timing-bin"

_TIMING_WRAPPER = """#!/bin/bash
s=$EPOCHREALTIME
{real} "$@"
rc=$?
[ -n "$BENCH_CC_LOG" ] && printf '%s %s %s {name}\\n' "$s" "$EPOCHREALTIME" "$rc" >> "$BENCH_CC_LOG"
exit $rc
"""


def timing_bin() -> Path:
    """A PATH dir whose `<triplet>-gcc`/`-g++` log start/end of every call to `$BENCH_CC_LOG`."""
    TIMING_BIN.mkdir(parents=True, exist_ok=True)
    for tool in ("gcc", "g++"):
        name = f"{TRIPLET}-{tool}"
        real = shutil.which(name, path=os.environ.get("PATH", "").replace(str(TIMING_BIN), ""))
        if real is None:
            continue
        text = _TIMING_WRAPPER.format(real=real, name=name)
        wrapper = TIMING_BIN / name
        if not wrapper.exists() or wrapper.read_text() != text:
            wrapper.write_text(text)
            wrapper.chmod(0o755)
    return TIMING_BIN


def compiler_time(cc_log: Path, window: tuple[float, float] | None = None) -> dict:
    """Sum and union (wall time with at least one compiler running) of the logged calls."""
    spans = []
    if cc_log.exists():
        for line in cc_log.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2:
                spans.append((float(parts[0]), float(parts[1])))
    if window:
        spans = [(max(s, window[0]), min(e, window[1])) for s, e in spans if e > window[0] and s < window[1]]
    spans.sort()
    union = 0.0
    cur_s = cur_e = None
    for s, e in spans:
        if cur_e is None or s > cur_e:
            if cur_e is not None:
                union += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None:
        union += cur_e - cur_s
    return {"calls": len(spans), "sum": round(sum(e - s for s, e in spans), 3), "union": round(union, 3)}


# ---- wheels ----------------------------------------------------------------------------------

def elf_machine(data: bytes) -> str | None:
    if len(data) < 20 or data[:4] != b"\x7fELF":
        return None
    order = "little" if data[5] == 1 else "big"
    number = int.from_bytes(data[18:20], order)
    return ELF_MACHINES.get(number, f"EM_{number}")


def describe_wheel(path: Path) -> dict:
    """What makes two builds of one package equivalent: modules, ELF machines, the tag."""
    modules, machines = [], set()
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            name = info.filename
            if ".dist-info/" in name or name.endswith("/"):
                continue
            if name.endswith(".so") or ".so." in name:
                with zf.open(info) as f:
                    machine = elf_machine(f.read(20))
                machines.add(machine or "not-ELF")
                stem = name.split(".", 1)[0]
                modules.append(stem + ".<ext>")
            else:
                modules.append(name)
    parts = path.name[:-4].split("-")
    return {
        "file": path.name,
        "name": parts[0].lower().replace("_", "-"),
        "tag": "-".join(parts[-3:]),
        "modules": sorted(modules),
        "elf_machines": sorted(machines),
        "size": path.stat().st_size,
    }


def describe_wheelhouse(directory: Path) -> dict[str, dict]:
    return {d["name"]: d for d in (describe_wheel(p) for p in sorted(directory.glob("*.whl")))}


def check_equivalent(reference: dict[str, dict], other: dict[str, dict], packages: list[str]) -> list[str]:
    """Problems that make `other` not equivalent to `reference` (empty list: equivalent)."""
    problems = []
    for req in packages:
        name = req.split("==")[0].lower()
        ref, got = reference.get(name), other.get(name)
        if got is None:
            problems.append(f"{name}: no wheel")
            continue
        if not got["elf_machines"]:
            problems.append(f"{name}: no compiled extension ({got['file']} is pure Python)")
        elif got["elf_machines"] != ["EM_ARM"]:
            problems.append(f"{name}: ELF machine {got['elf_machines']}, expected ['EM_ARM']")
        if ref is not None and ref["modules"] != got["modules"]:
            missing = sorted(set(ref["modules"]) - set(got["modules"]))[:5]
            extra = sorted(set(got["modules"]) - set(ref["modules"]))[:5]
            problems.append(f"{name}: module list differs (missing {missing}, extra {extra})")
    return problems


# ---- machine ---------------------------------------------------------------------------------

def _first_line(cmd: list[str]) -> str | None:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else None


def machine_info(pyx: Path) -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    rev = _first_line(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "mem_gib": mem,
        "kernel": platform.release(),
        "load_at_start": list(os.getloadavg()),
        "python": platform.python_version(),
        "cross_gcc": _first_line([f"{TRIPLET}-gcc", "--version"]),
        "qemu": _first_line(["qemu-arm", "--version"]),
        "pyx_commit": rev,
        "pyx_binary": str(pyx),
    }


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    tmp.replace(path)
