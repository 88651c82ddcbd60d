"""Describe the build machine's Python for pyx (run with -I -B; prints one JSON object)."""
import json
import sys
import sysconfig

print(json.dumps({
    "kind": "build_python",
    "executable": sys.executable,
    "version": "%d.%d.%d" % sys.version_info[:3],
    "prefix": sys.prefix,
    "base_prefix": sys.base_prefix,
    "include": sysconfig.get_paths()["include"],
    "platinclude": sysconfig.get_paths()["platinclude"],
    "stdlib": sysconfig.get_paths()["stdlib"],
    "ext_suffix": sysconfig.get_config_var("EXT_SUFFIX"),
    "multiarch": getattr(sys.implementation, "_multiarch", None),
}))
