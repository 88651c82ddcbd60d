"""Run one PEP 517 hook for pyx: `python pep517_hook.py REQUEST.json OUTFILE`.

The request names the hook, the backend (`module:object`), `backend-path` and the config settings.
The reply is one JSON object written to OUTFILE (never stdout, which the backend may use freely):
{"kind": "ok", "result": ...} or {"kind": "error", "error": "...", "traceback": "..."}.
"""

import importlib
import json
import os
import sys
import traceback


def load_backend(spec, backend_path):
    for entry in reversed(backend_path):
        sys.path.insert(0, os.path.abspath(entry))
    module_name, _, attrs = spec.partition(":")
    backend = importlib.import_module(module_name)
    for attr in filter(None, attrs.split(".")):
        backend = getattr(backend, attr)
    return backend


def run(request):
    try:
        backend = load_backend(request["backend"], request.get("backend_path") or [])
    except ImportError as exc:
        return {
            "kind": "backend_unavailable",
            "error": "cannot import the build backend `%s`: %s" % (request["backend"], exc),
            "traceback": traceback.format_exc(),
        }
    hook = request["hook"]
    config = request.get("config_settings") or None
    if hook == "get_requires_for_build_wheel":
        func = getattr(backend, hook, None)
        result = list(func(config)) if func is not None else []
    elif hook == "build_wheel":
        result = backend.build_wheel(request["wheel_directory"], config, None)
    else:
        return {"kind": "error", "error": "unknown hook `%s`" % hook, "traceback": ""}
    return {"kind": "ok", "result": result}


def main():
    request_path, outfile = sys.argv[1], sys.argv[2]
    with open(request_path, encoding="utf-8") as f:
        request = json.load(f)
    try:
        reply = run(request)
    except BaseException as exc:  # the backend's failure is the reply, not a crash of the runner
        traceback.print_exc()
        reply = {
            "kind": "error",
            "error": "%s: %s" % (type(exc).__name__, exc),
            "traceback": traceback.format_exc(),
        }
    with open(outfile, "w", encoding="utf-8") as f:
        json.dump(reply, f)
    sys.stdout.flush()
    sys.stderr.flush()
    return 0 if reply["kind"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
