#!/usr/bin/env python3
"""Regenerate data/demo_offline.json from the recorded fixtures.

Entity ids, timestamps and file records are taken from the fixtures wherever the recording shows
them, so replayed exchanges compare equal; entities the recording never shows get deterministic
ids (md5 of their path). Run: python3 data/gen_demo_offline.py [shared/fixtures/ayon-server]
"""
import glob
import hashlib
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
fx = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "..", "shared", "fixtures", "ayon-server")


def load(name):
    with open(os.path.join(fx, name)) as f:
        return json.load(f)


def did(*parts):
    return hashlib.md5("/".join(str(p) for p in parts).encode()).hexdigest()


PUB_TEMPLATE = ("{root[work]}/{project[name]}/{hierarchy}/{folder[name]}/publish/{product[type]}/{product[name]}"
                "/v{version:0>3}/{project[code]}_{folder[name]}_{product[name]}_v{version:0>3}<_{output}><.{frame:0>4}><_{udim}>.{ext}")
HERO_TEMPLATE = ("{root[work]}/{project[name]}/{hierarchy}/{folder[name]}/publish/{product[type]}/{product[name]}"
                 "/hero/{project[code]}_{folder[name]}_{product[name]}_hero<_{output}><.{frame:0>4}><_{udim}>.{ext}")

projects = load("projects.json")
detail = projects["exchanges"][1]["response"]["body"]
ents = load("entities_rest.json")["exchanges"]
folders_attrib = ents[1]["response"]["body"]["folders"]
by_id = {e["response"]["body"]["id"]: e["response"]["body"] for e in ents if e["response"]["status"] == 200 and isinstance(e["response"]["body"], dict) and "id" in e["response"]["body"]}

# Known ids from every resolve answer: representation -> (folder, product, version, publish-relative path).
known_rep = {}
known_ver = {}
for f in glob.glob(os.path.join(fx, "*.json")):
    with open(f) as fh:
        d = json.load(fh)
    for e in d.get("exchanges", []):
        if e["request"]["path"] != "/api/resolve" or not isinstance(e["response"]["body"], list):
            continue
        for it in e["response"]["body"]:
            for en in it["entities"]:
                fp = en.get("filePath", "")
                if "representationId" in en and fp.startswith("{root[work]}/") and "/publish/" in fp:
                    rel = fp.split("/publish/")[1]
                    known_rep[rel] = en["representationId"]
                    ptype, pname, vdir, _ = rel.split("/")
                    known_ver[(en["folderId"], pname, vdir)] = en["versionId"]
# GraphQL nodes carry full representation records (files, createdAt).
gql_reps = {}
gql_vers = {}
for e in load("ayon_api_graphql.json")["exchanges"]:
    body = e["response"]["body"]
    try:
        proj = body["data"]["project"]
    except (TypeError, KeyError):
        continue
    for kind, store in (("representations", gql_reps), ("versions", gql_vers)):
        for edge in (proj.get(kind) or {}).get("edges", []):
            store[edge["node"]["id"]] = edge["node"]
ops = load("operations.json")["exchanges"]
op_ids = {}
for e in ops[:2]:
    for o in e["request"]["body"]["operations"]:
        op_ids[(o["entityType"], json.dumps(o["data"].get("name")), o["data"].get("folderId") or o["data"].get("productId") or o["data"].get("versionId") or o["data"].get("parentId"), o["data"].get("version"))] = (o["entityId"], o["data"])

T0 = "2026-11-22T22:24:24.297606+00:00"


def ts(i):
    return "2026-11-22T22:24:%02d.%06d+00:00" % (24 + i // 1000000 % 30, i % 1000000)


folders = []
folder_by_path = {}
for fo in folders_attrib:
    full = by_id.get(fo["id"], {})
    folder = {
        "id": fo["id"], "name": fo["name"], "path": fo["path"], "folderType": fo["folderType"],
        "label": fo["label"], "status": fo["status"], "tags": fo["tags"], "attrib": fo["attrib"],
        "data": full.get("data", {}), "active": True, "thumbnailHash": fo.get("thumbnailHash"),
        "createdAt": fo["createdAt"], "updatedAt": fo["updatedAt"], "tasks": [], "products": [],
    }
    folders.append(folder)
    folder_by_path[fo["path"]] = folder

task_rec = by_id["796fa696e6c311f1931b02fc00000001"]
folder_by_path["assets/characters/hero"]["tasks"].append({
    "id": task_rec["id"], "name": task_rec["name"], "taskType": task_rec["taskType"], "label": None,
    "assignees": [], "status": task_rec["status"], "tags": [], "attrib": task_rec["attrib"], "data": {},
    "active": True, "createdAt": task_rec["createdAt"], "updatedAt": task_rec["updatedAt"],
})

known_products = {
    ("assets/characters/hero", "usdAsset"): "79763858e6c311f1931b02fc00000001",
    ("assets/characters/hero", "modelMain"): "79d2afd4e6c311f1931b02fc00000001",
    ("shots/sq010/sh010", "usdShot"): "79fc99cae6c311f1931b02fc00000001",
}
counter = [0]


def make_product(folder, name, ptype, versions, hero_of=None, prop=False, op=None):
    pid = known_products.get((folder["path"], name)) or (op is not None and op.get(("product", folder["id"]))) or did("demo_offline", folder["path"], name)
    rec = by_id.get(pid, {})
    counter[0] += 1
    product = {
        "id": pid, "name": name, "productType": ptype, "productBaseType": ptype, "status": "Not ready",
        "tags": [], "attrib": {}, "data": {}, "active": True,
        "createdAt": rec.get("createdAt", ts(counter[0] * 1000)), "updatedAt": rec.get("updatedAt", ts(counter[0] * 1000 + 8)),
        "versions": [],
    }
    hierarchy = "/".join(folder["path"].split("/")[:-1])
    for vnum, reps in versions + ([(-hero_of, [r for r in dict(versions)[hero_of]])] if hero_of else []):
        vdir = "hero" if vnum < 0 else "v%03d" % vnum
        vid = known_ver.get((folder["id"], name, vdir)) or (op is not None and op.get(("version", name, vnum))) or did("demo_offline", folder["path"], name, vdir)
        vrec = by_id.get(vid) or {}
        gv = gql_vers.get(vid) or {}
        counter[0] += 1
        version = {
            "id": vid, "version": vnum, "author": "admin", "status": "Pending review", "tags": [],
            "attrib": ({"comment": "hero of v%03d" % -vnum} if vnum < 0 else {"comment": "v%03d" % vnum}) if not prop else {},
            "data": {}, "active": True, "taskId": None, "thumbnailId": None,
            "createdAt": gv.get("createdAt") or vrec.get("createdAt") or ts(counter[0] * 1000),
            "updatedAt": gv.get("updatedAt") or vrec.get("updatedAt") or ts(counter[0] * 1000 + 8),
            "representations": [],
        }
        for rname in reps:
            fname = "demo_%s_%s_%s.%s" % (folder["name"], name, vdir, rname)
            rel = "%s/%s/%s/%s" % (ptype, name, vdir, fname)
            rid = known_rep.get(rel) or (op is not None and op.get(("representation", vid, rname))) or did("demo_offline", folder["path"], name, vdir, rname)
            path = "{root[work]}/demo_offline/%s/publish/%s" % (folder["path"], rel)
            if prop:
                ctx = {"project": {"name": "demo_offline", "code": "demo"}, "hierarchy": hierarchy,
                       "folder": {"name": folder["name"]}, "product": {"name": name, "type": ptype},
                       "version": vnum, "ext": rname, "representation": rname}
                files = [{"id": did("file", rid), "name": fname, "path": path, "size": 1, "hash": "x", "hashType": "op3"}]
            else:
                ctx = {"ext": rname, "folder": {"name": folder["name"], "type": folder["folderType"]},
                       "product": {"name": name, "type": ptype}, "project": {"code": "demo", "name": "demo_offline"},
                       "version": abs(vnum), "username": "admin", "hierarchy": hierarchy, "representation": rname}
                gr = gql_reps.get(rid)
                if gr:
                    files = [{"id": x["id"], "name": x["name"], "path": x["path"], "size": int(x["size"]), "hash": x["hash"], "hashType": "op3"} for x in gr["files"]]
                else:
                    files = [{"id": did("file", rid), "name": fname, "path": path, "size": 2048 if vnum < 0 else 1024,
                              "hash": "%s_%s_%s" % (name, "hero" if vnum < 0 else vnum, rname), "hashType": "op3"}]
            gr = by_id.get(rid) or gql_reps.get(rid) or {}
            counter[0] += 1
            version["representations"].append({
                "id": rid, "name": rname, "status": "Omitted", "tags": [],
                "attrib": {"path": path, "template": HERO_TEMPLATE if vnum < 0 else PUB_TEMPLATE},
                "data": {"context": ctx}, "files": files, "active": True, "traits": None,
                "createdAt": gr.get("createdAt") or ts(counter[0] * 1000), "updatedAt": gr.get("updatedAt") or ts(counter[0] * 1000 + 8),
            })
        product["versions"].append(version)
    folder["products"].append(product)


make_product(folder_by_path["assets/characters/hero"], "usdAsset", "usd",
             [(1, ["usd", "abc"]), (2, ["usd", "abc"]), (3, ["usd"])], hero_of=3)
make_product(folder_by_path["assets/characters/hero"], "modelMain", "model", [(1, ["abc"]), (2, ["abc", "usd"])])
make_product(folder_by_path["shots/sq010/sh010"], "usdShot", "usd", [(1, ["usd"]), (2, ["usd", "abc"])], hero_of=2)

# Props: ids from the /operations recording where present.
op_index = {}
for e in ops[:2]:
    opsl = e["request"]["body"]["operations"]
    for o in opsl:
        dta = o["data"]
        if o["entityType"] == "product":
            op_index[("product", dta["folderId"])] = o["entityId"]
for e in ops[:2]:
    for o in e["request"]["body"]["operations"]:
        dta = o["data"]
        if o["entityType"] == "version":
            op_index[("version_by_product", dta["productId"], dta["version"])] = o["entityId"]
        if o["entityType"] == "representation":
            op_index[("representation", dta["versionId"], dta["name"])] = o["entityId"]
for i in range(1, 101):
    f = folder_by_path["assets/props/prop%03d" % i]
    pid = op_index.get(("product", f["id"]))

    class Op(dict):
        def get(self, key, default=None):
            if key[0] == "product":
                return pid
            if key[0] == "version":
                return op_index.get(("version_by_product", pid, key[2]))
            return op_index.get(key)
    make_product(f, "usdAsset", "usd", [(1, ["usd"]), (2, ["usd"]), (3, ["usd"])], prop=True, op=Op())

extra = {k: v for k, v in detail.items() if k not in ("name", "code", "statuses", "createdAt", "updatedAt", "active")}
roots = {r["name"]: {"windows": r["windows"], "linux": r["linux"], "darwin": r["darwin"]}
         for r in projects["exchanges"][3]["response"]["body"]["roots"]}
extra["config"] = {k: v for k, v in extra["config"].items() if k != "roots"}
library = {
    "projects": [{
        "name": "demo_offline", "code": "demo", "active": True, "roots": roots, "statuses": detail["statuses"],
        "siteRoots": {"offline-test-override": {"work": "/home/artist/ayon-work"}},
        "anatomy": projects["exchanges"][3]["response"]["body"],
        "createdAt": detail["createdAt"], "updatedAt": detail["updatedAt"], "extra": extra,
        "folders": folders,
    }],
    "sites": [
        {"id": "offline-test-windows", "platform": "windows", "hostname": "host-windows", "version": "0.1.0-recorder", "users": ["admin"]},
        {"id": "offline-test-darwin", "platform": "darwin", "hostname": "host-darwin", "version": "0.1.0-recorder", "users": ["admin"]},
        {"id": "offline-test-override", "platform": "linux", "hostname": "host-linux", "version": "0.1.0-recorder", "users": ["admin"]},
        {"id": "offline-test-linux", "platform": "linux", "hostname": "h", "version": "1", "users": ["admin"]},
    ],
}
with open(os.path.join(here, "demo_offline.json"), "w") as f:
    json.dump(library, f, indent=1, sort_keys=False)
    f.write("\n")
print("folders", len(folders), "products", sum(len(x["products"]) for x in folders))
