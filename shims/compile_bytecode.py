"""Compile a build env's bytecode at low priority (run by pyx with -I -S: SITE_PACKAGES MARKER).

A build env is installed without bytecode so that a build can begin sooner; this fills it in on
a core the build leaves idle. A module that already has current bytecode (written by a hook's
imports meanwhile, or linked from the env this one was made from) is left alone, and a `.py`
beside an extension module of the same name is skipped: the import system loads the extension.
MARKER is written when every module has been seen. SIGTERM stops it between two modules,
without the marker: pyx sends it when the env is copied into a larger one, whose own compile
then takes over.
"""
import compileall
import importlib.machinery
import os
import signal
import sys

stopped = False


def stop(signum, frame):
    global stopped
    stopped = True


def main(site_packages, marker):
    signal.signal(signal.SIGTERM, stop)
    try:
        os.nice(10)
    except OSError:
        pass
    extensions = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    for root, dirs, files in os.walk(site_packages):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        present = set(files)
        for name in files:
            if not name.endswith(".py"):
                continue
            if any(name[:-3] + suffix in present for suffix in extensions):
                continue
            if stopped:
                return
            compileall.compile_file(os.path.join(root, name), quiet=2)
    with open(marker, "w", encoding="utf-8"):
        pass


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
