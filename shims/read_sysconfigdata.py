"""Read a target Python's `_sysconfigdata_*.py` without executing it (run with -I -B -S).

argv[1]: the file. Prints {"kind": "sysconfigdata", "build_time_vars": {...}} as JSON. The module is
parsed with `ast` and its `build_time_vars` literal evaluated with `ast.literal_eval`, so no code
from the target root runs on the build machine.
"""
import ast
import json
import sys

path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    tree = ast.parse(f.read(), filename=path)

found = None
for node in tree.body:
    if isinstance(node, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == "build_time_vars" for t in node.targets
    ):
        found = ast.literal_eval(node.value)

if not isinstance(found, dict):
    print(json.dumps({"kind": "error", "message": "no `build_time_vars = {...}` literal in the file"}))
else:
    print(json.dumps({"kind": "sysconfigdata", "build_time_vars": found}))
