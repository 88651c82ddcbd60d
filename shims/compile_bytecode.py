"""Compile a build env's bytecode at low priority (run by pyx with -I -S: SITE_PACKAGES MARKER
[REQUIREMENT...]).

A build env is installed without bytecode so that a build can begin sooner; this fills it in on
a core the build leaves idle. The modules of the env's own requirements come first, in the order
given, each with the distributions it requires (within one requirement, those with the fewest
modules first): the hooks import the backend and its dependencies at once and run its tools
(meson, cython) next, and a module imported before its bytecode exists is compiled again in
memory by each process that imports it, when the machine sets PYTHONDONTWRITEBYTECODE. Then
everything else. A module that already has current bytecode (written by a hook's imports
meanwhile, or linked from the env this one was made from) is left alone, and a `.py` beside an
extension module of the same name is skipped: the import system loads the extension. MARKER is
written when every module has been seen. SIGTERM stops it between two modules, without the
marker: pyx sends it when the env is copied into a larger one, whose own compile then takes over.
"""
import compileall
import importlib.machinery
import os
import re
import signal
import sys

stopped = False


def stop(signum, frame):
    global stopped
    stopped = True


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def first_modules(site_packages, requirements):
    """The `.py` files of the distributions `requirements` name and of those they require."""
    from importlib import metadata

    try:
        dists = {}
        for dist in metadata.distributions(path=[site_packages]):
            dists.setdefault(canonical(dist.metadata["Name"] or ""), dist)
        seen, ordered = set(), []
        for requirement in requirements:
            closure, todo = [], [requirement]
            while todo:
                named = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", todo.pop())
                name = canonical(named.group(1)) if named else ""
                if name in seen or name not in dists:
                    continue
                seen.add(name)
                dist = dists[name]
                files = [
                    os.path.normpath(os.path.join(site_packages, str(f)))
                    for f in dist.files or ()
                    if str(f).endswith(".py") and not str(f).startswith("..")
                ]
                closure.append(files)
                # what an extra asks for is not installed for the build
                todo.extend(r for r in dist.requires or () if "extra" not in r.partition(";")[2])
            closure.sort(key=len)
            for files in closure:
                ordered.extend(files)
        return ordered
    except Exception:  # only the order is lost
        return []


def main(site_packages, marker, requirements):
    site_packages = os.path.normpath(site_packages)
    signal.signal(signal.SIGTERM, stop)
    try:
        os.nice(10)
    except OSError:
        pass
    extensions = tuple(importlib.machinery.EXTENSION_SUFFIXES)

    def shadowed(path):
        stem = path[:-3]
        return any(os.path.exists(stem + suffix) for suffix in extensions)

    done = set()
    for path in first_modules(site_packages, requirements):
        if stopped:
            return
        if path not in done and os.path.isfile(path) and not shadowed(path):
            compileall.compile_file(path, quiet=2)
        done.add(path)
    for root, dirs, files in os.walk(site_packages):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        present = set(files)
        for name in files:
            if not name.endswith(".py"):
                continue
            if any(name[:-3] + suffix in present for suffix in extensions):
                continue
            path = os.path.join(root, name)
            if path in done:
                continue
            if stopped:
                return
            compileall.compile_file(path, quiet=2)
    with open(marker, "w", encoding="utf-8"):
        pass


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
