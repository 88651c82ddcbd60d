"""Print the manylinux policy table of src/audit/policy.rs from auditwheel's manylinux-policy.json.

Usage: bench/.venv/bin/python bench/gen_policy.py > /tmp/policy.rs.part (needs auditwheel in the venv).
Keeps, per policy and architecture, the newest numeric version of each symbol-version prefix, and
the allowed libraries.
"""

import json
import pathlib

import auditwheel

src = pathlib.Path(auditwheel.__file__).parent / "policy" / "manylinux-policy.json"
policies = json.loads(src.read_text())


def key(v):
    return tuple(int(x) for x in v.split("."))


def newest(versions):
    numeric = [v for v in versions if all(p.isdigit() for p in v.split("."))]
    return max(numeric, key=key) if numeric else ""


libsets = {}
print("pub static POLICIES: &[Policy] = &[")
for pol in policies:
    if pol["name"] == "linux":
        continue
    _, major, minor = pol["name"].split("_")
    libs = tuple(pol["lib_whitelist"])
    libname = libsets.setdefault(libs, f"LIBS_{len(libsets)}")
    print("    Policy {")
    print(f"        glibc: GlibcVersion::new({major}, {minor}),")
    alias = f'Some("{pol["aliases"][0]}")' if pol["aliases"] else "None"
    print(f"        legacy_alias: {alias},")
    print(f"        libraries: {libname},")
    print("        arches: &[")
    for arch, sv in sorted(pol["symbol_versions"].items()):
        vals = ", ".join(f'"{newest(sv.get(p, []))}"' for p in ("GLIBC", "GLIBCXX", "CXXABI", "GCC"))
        print(f'            ("{arch}", [{vals}]),')
    print("        ],")
    print("    },")
print("];")
for libs, name in libsets.items():
    print(f"const {name}: &[&str] = &[")
    for lib in libs:
        print(f'    "{lib}",')
    print("];")
