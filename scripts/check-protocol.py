#!/usr/bin/env python3
"""Validates Protocol/ examples and SampleFrames sidecars against the JSON Schemas, and checks that
every file in Protocol/v1/examples/invalid/ is rejected. Exits non-zero on any mismatch.
Needs the jsonschema package (pip install jsonschema)."""
import glob
import json
import os
import sys

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
v1 = os.path.join(root, "Protocol", "v1")
schemas = {}
for path in glob.glob(os.path.join(v1, "*.schema.json")):
    with open(path) as f:
        schemas[os.path.basename(path)] = json.load(f)
registry = Registry().with_resources(
    [(name, Resource.from_contents(s)) for name, s in schemas.items()] +
    [(s["$id"], Resource.from_contents(s)) for s in schemas.values()])
validators = {name: Draft202012Validator(s, registry=registry) for name, s in schemas.items()}
for s in schemas.values():
    Draft202012Validator.check_schema(s)

failures = 0
checked = 0


class DuplicateKey(ValueError):
    pass


def no_duplicate_keys(pairs):
    """An object with a key twice is not a HerdLens message (the server refuses it as badJSON)."""
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise DuplicateKey("duplicate key in an object")
    return dict(pairs)


def check(path, schema, should_pass):
    global failures, checked
    checked += 1
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f, object_pairs_hook=no_duplicate_keys)
        errors = list(validators[schema].iter_errors(doc))
    except (json.JSONDecodeError, DuplicateKey) as e:
        errors = [e]
    if should_pass and errors:
        failures += 1
        first = errors[0]
        print(f"FAIL {os.path.relpath(path, root)}: {getattr(first, 'message', first)}"[:400])
    elif not should_pass and not errors:
        failures += 1
        print(f"FAIL {os.path.relpath(path, root)}: accepted, but it is in invalid/")


for path in sorted(glob.glob(os.path.join(v1, "examples", "annotations-*.json"))):
    check(path, "annotations.schema.json", True)
for path in sorted(glob.glob(os.path.join(v1, "examples", "invalid", "*.json"))):
    check(path, "annotations.schema.json", False)
for path in sorted(glob.glob(os.path.join(v1, "examples", "wire", "*.json"))):
    check(path, "messages.schema.json", True)
for path in sorted(glob.glob(os.path.join(v1, "examples", "wire-invalid", "*.json"))):
    # Range and calendar checks (February 30th, seq past 2^64) are the server's, not the schema's.
    if "february-30" not in path and "invalidMessage--seal" not in path:
        check(path, "messages.schema.json", False)
for path in sorted(glob.glob(os.path.join(v1, "examples", "marks-invalid", "*.json"))):
    # `--server-` ones (a blank text, a flat box, a key given twice) are refused by the server, not the schema.
    if "--server-" not in path:
        check(path, "messages.schema.json", False)
for path in sorted(glob.glob(os.path.join(v1, "examples", "sessions", "*.json"))):
    check(path, "sessions.schema.json", True)
for path in sorted(glob.glob(os.path.join(v1, "examples", "replay", "*.json"))):
    check(path, "replay.schema.json", True)
for path in sorted(glob.glob(os.path.join(root, "SampleFrames", "frames", "*.annotations.json"))):
    check(path, "annotations.schema.json", True)
for path in sorted(glob.glob(os.path.join(root, "SampleFrames", "frames", "*.sensors.json"))):
    check(path, "frame-header.schema.json", True)
print(f"protocol: {checked - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
