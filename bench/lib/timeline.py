"""Where a command's wall time goes: every process it starts (strace, execve and exits only),
grouped by what it is, as the union of the wall-clock spans of each group."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

LINE = re.compile(r"^(\d+)\s+(\d+):(\d+):(\d+\.\d+)\s+(.*)$")

# First matching rule wins; matched against the program and its arguments.
GROUPS = [
    ("compiler (cross gcc/g++)", re.compile(r"arm-linux-gnueabihf-(gcc|g\+\+)|/cc1|/cc1plus|/collect2|/as\b|/ld\b")),
    ("venv + ensurepip", re.compile(r"-m venv|ensurepip")),
    ("pip install (build requirements)", re.compile(r"-m pip install|pip install|/pip\b")),
    ("PEP 517 hooks (backend)", re.compile(r"hook|build_wheel|_in_process|build_meta|mesonpy")),
    ("meson/ninja/cython", re.compile(r"meson|ninja|cython")),
    ("other python", re.compile(r"python")),
]


def _seconds(h: str, m: str, s: str) -> float:
    return int(h) * 3600 + int(m) * 60 + float(s)


def _union(spans: list[tuple[float, float]]) -> float:
    total, cur = 0.0, None
    for s, e in sorted(spans):
        if cur is None or s > cur[1]:
            if cur:
                total += cur[1] - cur[0]
            cur = [s, e]
        else:
            cur[1] = max(cur[1], e)
    if cur:
        total += cur[1] - cur[0]
    return total


def parse(trace: Path) -> dict:
    procs: dict[str, dict] = {}
    first = last = None
    for line in trace.read_text(errors="replace").splitlines():
        m = LINE.match(line)
        if not m:
            continue
        pid, t, rest = m.group(1), _seconds(*m.group(2, 3, 4)), m.group(5)
        first = t if first is None else first
        last = t
        if rest.startswith("execve(") and rest.rstrip().endswith("= 0"):
            argv = rest[rest.find("["):rest.rfind("]") + 1]
            p = procs.setdefault(pid, {"start": t})
            p["argv"] = argv
        elif "+++ exited" in rest or "+++ killed" in rest:
            if pid in procs:
                procs[pid]["end"] = t
    groups: dict[str, list] = {}
    top = None
    for pid, p in procs.items():
        if top is None:
            top = pid
            continue
        if "end" not in p:
            continue
        name = next((g for g, rx in GROUPS if rx.search(p["argv"])), "other tools")
        groups.setdefault(name, []).append((p["start"], p["end"]))
    wall = (last - first) if first is not None else 0.0
    out = {"wall": round(wall, 3), "groups": {}}
    covered = []
    for name, spans in groups.items():
        out["groups"][name] = {"processes": len(spans), "union": round(_union(spans), 3)}
        covered += spans
    out["no_child_running"] = round(wall - _union(covered), 3)
    return out


def profile(cmd: list[str], trace: Path, env: dict[str, str], log: Path) -> dict:
    """Run `cmd` under strace (execve and exits only, seccomp-filtered) and summarise."""
    full = ["strace", "-f", "-q", "-tt", "-s", "256", "--seccomp-bpf", "-e", "trace=execve", "-e", "signal=none",
            "-o", str(trace), *cmd]
    with open(log, "ab") as out:
        out.write(f"\n$ {shlex.join(full)}\n".encode())
        out.flush()
        code = subprocess.call(full, stdout=out, stderr=subprocess.STDOUT, env=env)
    result = parse(trace)
    result["exit"] = code
    return result
