"""Where a command's wall time goes: every process it starts (strace, execve and exits only),
grouped by what it is; each moment of wall time goes to the most specific group running then."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

LINE = re.compile(r"^(\d+)\s+(\d+):(\d+):(\d+\.\d+)\s+(.*)$")

# First matching rule wins (and is the more specific when processes nest); matched against argv.
GROUPS = [
    ("compiler (cross gcc/g++)", re.compile(r"^\S*(arm-linux-gnueabihf-(gcc|g\+\+)|/cc1|/cc1plus|/collect2|/as|/ld) ")),
    ("compiler cache (ccache/sccache, outside the compiler)", re.compile(r"^\S*s?ccache ")),
    ("distcc (outside the compiler)", re.compile(r"^\S*distcc ")),
    ("pyx shims (outside the compiler)", re.compile(r" shim --env ")),
    ("venv + ensurepip", re.compile(r" -m venv | -m ensurepip ")),
    ("pip install (build requirements)", re.compile(r" -m pip install | -m pip freeze |/pip3? install ")),
    ("uv pip install (build requirements)", re.compile(r"^\S*uv pip install ")),
    ("PEP 517 hooks (backend)", re.compile(r"pep517_hook|_in_process|build_meta|mesonpy")),
    ("meson/ninja/cython", re.compile(r"meson|ninja|cython")),
    ("crossenv (python -m crossenv)", re.compile(r" -m crossenv ")),
    ("other python", re.compile(r"python")),
]


def _seconds(h: str, m: str, s: str) -> float:
    return int(h) * 3600 + int(m) * 60 + float(s)


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
    spans = []  # (start, end, priority) of every child process that finished
    top = None
    for pid, p in procs.items():
        if top is None:
            top = pid
            continue
        if "end" not in p:
            continue
        flat = " ".join(re.findall(r'"((?:[^"\\]|\\.)*)"', p["argv"])) + " "
        prio = next((i for i, (_, rx) in enumerate(GROUPS) if rx.search(flat)), len(GROUPS))
        spans.append((p["start"], p["end"], prio))
    names = [g for g, _ in GROUPS] + ["other tools", "the top process alone (no child running)"]
    # Sweep: every slice of wall time goes to the most specific group running then.
    events = sorted({first or 0.0, last or 0.0, *[t for s, e, _ in spans for t in (s, e)]})
    exclusive = [0.0] * len(names)
    for a, b in zip(events, events[1:]):
        running = [prio for s, e, prio in spans if s <= a and e >= b]
        exclusive[min(running) if running else len(names) - 1] += b - a
    wall = (last - first) if first is not None else 0.0
    return {"wall": round(wall, 3),
            "exclusive": {n: round(x, 3) for n, x in zip(names, exclusive) if x >= 0.005}}


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
