"""pyx test --pip: run the target's own pip exactly as `python -m pip ARGS` would, then write a
tagged JSON reply to REPLY: pip's exit code and version, the target's Python version and, when pip
failed, the tags this interpreter accepts (what `pip debug --verbose` lists as compatible tags).

Run by pyx with the target's Python under QEMU:  python -I -B target_pip.py REPLY ARGS...
"""
import json
import platform
import runpy
import subprocess
import sys


def accepted_tags():
    try:
        from pip._internal.utils.compatibility_tags import get_supported

        return [str(tag) for tag in get_supported()]
    except Exception:
        pass
    # pip moved its internals: ask `pip debug --verbose`, which prints the same list.
    out = subprocess.run(
        [sys.executable, "-m", "pip", "debug", "--verbose"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        universal_newlines=True,
    ).stdout.splitlines()
    for i, line in enumerate(out):
        if line.startswith("Compatible tags:"):
            return [t.strip() for t in out[i + 1 :] if t.startswith(" ")]
    return []


def main():
    reply_path, args = sys.argv[1], sys.argv[2:]
    python = platform.python_version()
    try:
        import pip
    except ImportError:
        reply = {"kind": "no-pip", "python": python}
        code = 1
    else:
        sys.argv = ["pip", *args]
        try:
            runpy.run_module("pip", run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        reply = {"kind": "ran", "exit": code, "pip": pip.__version__, "python": python}
        if code != 0:
            reply["tags"] = accepted_tags()
    sys.stdout.flush()
    sys.stderr.flush()
    with open(reply_path, "w", encoding="utf-8") as f:
        json.dump(reply, f)
    return code


if __name__ == "__main__":
    sys.exit(main())
