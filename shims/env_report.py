"""Report what a cross env's Python answers (run inside the env; prints one JSON object)."""
import importlib.machinery
import json
import os
import platform
import sys
import sysconfig

try:
    from packaging.tags import sys_tags

    first_tag = str(next(iter(sys_tags())))
except ImportError:
    first_tag = None

print(json.dumps({
    "kind": "env_report",
    "executable": sys.executable,
    "version": "%d.%d.%d" % sys.version_info[:3],
    "platform": sysconfig.get_platform(),
    "machine": platform.machine(),
    "uname_machine": os.uname().machine,
    "multiarch": getattr(sys.implementation, "_multiarch", None),
    "ext_suffix": sysconfig.get_config_var("EXT_SUFFIX"),
    "soabi": sysconfig.get_config_var("SOABI"),
    "config_multiarch": sysconfig.get_config_var("MULTIARCH"),
    "extension_suffixes": importlib.machinery.EXTENSION_SUFFIXES,
    "first_tag": first_tag,
    "glibc": os.confstr("CS_GNU_LIBC_VERSION") if hasattr(os, "confstr") else None,
    "cc": sysconfig.get_config_var("CC"),
    "cxx": sysconfig.get_config_var("CXX"),
    "ldshared": sysconfig.get_config_var("LDSHARED"),
    "include": sysconfig.get_path("include"),
}))
