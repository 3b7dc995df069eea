"""The AYON server's URI parsing, run on the real CPython urllib.parse, as a test oracle.

`parse` restates ayon-backend `api/resolve/__init__.py` (`sanitize_uri`, `parse_uri`,
`get_version_conditions` with `latestdone`) and the target choice of `resolve_entities`.
Usage: python3 python_reference.py COUNT SEED  -> one JSON line per generated input:
{"input": ..., "expected": {"ok": false, "msg": ...} | {"ok": true, fields...}}
"""
import json
import random
import re
import sys
from urllib.parse import parse_qs, urlparse

NAME_VALIDATOR = re.compile(r"^[a-zA-Z0-9_]([a-zA-Z0-9_\.\-]*[a-zA-Z0-9_])?$")
SDF_REGEX = re.compile(r":SDF_FORMAT_ARGS.*$")


def validate_name(name):
    if name is None or name == "*":
        return
    if not NAME_VALIDATOR.match(name):
        raise ValueError(f"Invalid name: {name}")


def version_selector(version_name):
    if version_name is None:
        return None
    if version_name == "*":
        return "*"
    original = version_name
    version_name = version_name.strip().lower()
    if version_name.startswith("v"):
        version_name = version_name[1:]
    if version_name.isdigit():
        return "v%03d" % min(int(version_name), 2**32 - 1)
    if version_name in ("latest", "latestdone", "hero"):
        return version_name
    raise ValueError(f"Invalid version name: {original}")


def parse(uri):
    uri = re.sub(SDF_REGEX, "", uri)
    parsed = urlparse(uri)
    if parsed.scheme not in ["ayon", "ayon+entity"]:
        raise ValueError(f"Invalid scheme: {parsed.scheme}")
    project = parsed.netloc
    if not NAME_VALIDATOR.match(project):
        raise ValueError(f"Invalid project name: {project}")
    path = parsed.path.strip("/") or None
    if path:
        for element in path.split("/"):
            if not NAME_VALIDATOR.match(element):
                raise ValueError(f"Invalid path element: {element}")
    qs = parse_qs(parsed.query)
    get = lambda key: qs.get(key, [None])[0]
    product, task, version = get("product"), get("task"), get("version")
    representation, workfile = get("representation"), get("workfile")
    for value in (product, task, version, representation, workfile):
        validate_name(value)
    if task is not None or workfile is not None:
        if product is not None:
            raise ValueError("Tasks and workfiles cannot be queried with products")
        if version is not None:
            raise ValueError("Tasks and workfiles cannot be queried with versions")
        if representation is not None:
            raise ValueError("Tasks and workfiles cannot be queried with representations")
    selector = version_selector(version)
    if task is not None or workfile is not None:
        target = "workfile" if workfile is not None else "task"
    elif representation is not None:
        target = "representation"
    elif version is not None:
        target = "version"
    elif product is not None:
        target = "product"
    elif path:
        target = "folder"
    else:
        target = None
    return dict(ok=True, project=project, path=path or "", product=product, task=task,
                version=selector, representation=representation, workfile=workfile,
                target=target)


def reference(uri):
    try:
        return parse(uri)
    except ValueError as e:
        return dict(ok=False, msg=str(e))


ATOMS = ["ayon", "AYON", "Ayon+Entity", "ayon+entity", "http", ":", "//", "/", "///", "?", "&",
         "=", "#", ";", "%", "%41", "%2F", "%0A", "%0a", "%C3%A9", "%C3", "%zz", "+", " ", "\t",
         "\n", "\r", "\x00", "\x1f", "é", "\u2100", "\uff0f", "[", "]", "[::1]", "[1.2.3.4]",
         "[v1.x]", "[v1]", "[x]", "@", "proj", "demo_offline", "a", "b.c", "-", ".", "..", "*",
         "_", "product", "version", "representation", "task", "workfile", "PRODUCT", "prod%75ct",
         "product=", "version=", "v001", "V3", "3", "v-03", "-3", "3.0", "latest", "LATEST",
         "latestDone", "hero", "HeRo", "v", "0", "00000000000000000000001", "99999999999", "x.ma",
         ":SDF_FORMAT_ARGS", ":SDF_FORMAT_ARGS:a=b", "'", '"', "\\", "\x7f", "\u00a0", "\u200b"]
BASE = ["ayon+entity://demo/assets/hero?product=usdMain&version=v004&representation=usd",
        "ayon://demo//assets/hero?task=modeling&workfile=x.ma", "ayon://demo",
        "ayon://demo/?product=x"]


def generate(rng):
    r = rng.random()
    if r < 0.15:
        inside = "".join(rng.choice("0123456789abcdefABCDEFg:::..%%vé'\\\"")
                         for _ in range(rng.randint(0, 16)))
        return ("ayon://" + rng.choice(["", "x", "["]) + "[" + inside + "]"
                + rng.choice(["", "]", "/a"]))
    if r < 0.4:
        return "".join(rng.choice(ATOMS) for _ in range(rng.randint(0, 14)))
    s = rng.choice(BASE)
    for _ in range(rng.randint(1, 4)):
        i = rng.randint(0, len(s))
        op = rng.random()
        if op < 0.5:
            s = s[:i] + rng.choice(ATOMS) + s[i:]
        elif op < 0.8:
            s = s[:i] + s[i + rng.randint(1, 5):]
        else:
            s = s[:i] + chr(rng.randint(0, 0x7F)) + s[i:]
    return s


def main():
    count, seed = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    for _ in range(count):
        uri = generate(rng)
        print(json.dumps({"input": uri, "expected": reference(uri)}))


if __name__ == "__main__":
    main()
