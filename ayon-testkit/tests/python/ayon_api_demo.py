"""Drives the UNCHANGED ayon-python-api 1.2.25 against an ayon-testkit server.

Run by `tests/python_api.rs` with the testkit's URL and credentials in the environment:
AYON_TESTKIT_URL, AYON_TESTKIT_USER, AYON_TESTKIT_PASSWORD, AYON_TESTKIT_API_KEY.
Every check compares real values of the `demo_offline` library. Prints one `ok <name>` line per
passed check, then `ALL CHECKS PASSED <n>`; any failure raises (non-zero exit, traceback).
"""

import json
import os
import sys

import ayon_api
from ayon_api import ServerAPI

PROJECT = "demo_offline"
CHECKS = 0


def check(name, actual, expected):
    """Fails loudly with both values when they differ."""
    global CHECKS
    if actual != expected:
        raise AssertionError(f"{name}: expected {expected!r}, got {actual!r}")
    CHECKS += 1
    print(f"ok {name} = {actual!r}", flush=True)


def main():
    url = os.environ["AYON_TESTKIT_URL"]
    user = os.environ["AYON_TESTKIT_USER"]
    password = os.environ["AYON_TESTKIT_PASSWORD"]
    api_key = os.environ["AYON_TESTKIT_API_KEY"]

    check("ayon_api version", ayon_api.__version__, "1.2.25")

    # 1. User login: GET / probe, POST /api/auth/login, /api/info, /api/users/me.
    con = ServerAPI(url, site_id="offline-test-linux", client_version="1.2.25-testkit")
    con.login(user, password)
    check("login has valid token", con.has_valid_token, True)
    check("logged-in user", con.get_user()["name"], user)
    run_queries(con, "admin", {"work": "/mnt/projects"})

    # 2. Service API key: Bearer on /api/users/me fails, ayon_api falls back to X-Api-Key.
    key_con = ServerAPI(url, token=api_key, site_id="offline-test-windows")
    key_con.create_session()
    check("api key valid", key_con.has_valid_token, True)
    folder = key_con.get_folder_by_path(PROJECT, "/shots/sq010/sh010")
    check("api key: shot folder name", folder["name"], "sh010")
    run_queries(key_con, "service", {"work": "P:/projects"})

    # 3. The admin's per-site root override (PUT /roots/{site} in the recording).
    override = ServerAPI(url, site_id="offline-test-override")
    override.login(user, password)
    check(
        "override site roots",
        override.get_project_roots_by_site_id(PROJECT),
        {"work": "/home/artist/ayon-work"},
    )

    print(f"ALL CHECKS PASSED {CHECKS}", flush=True)


def run_queries(con, tag, site_roots):

    project = con.get_project(PROJECT)
    check(f"{tag}: project name", project["name"], PROJECT)
    check(f"{tag}: project code", project["code"], "demo")
    roots = project["config"]["roots"]["work"]
    check(f"{tag}: project linux root", roots["linux"], "/mnt/projects")
    check(f"{tag}: project windows root", roots["windows"], "P:/projects")
    check(f"{tag}: project darwin root", roots["darwin"], "/Volumes/projects")
    check(f"{tag}: missing project", con.get_project("no_such_project"), None)

    # Folders: leading slash optional on input, always present on output.
    hero = con.get_folder_by_path(PROJECT, "assets/characters/hero")
    check(f"{tag}: folder name", hero["name"], "hero")
    check(f"{tag}: folder path", hero["path"], "/assets/characters/hero")
    check(f"{tag}: folder type", hero["folderType"], "Asset")
    check(f"{tag}: folder attrib fps", hero["attrib"]["fps"], 25.0)
    same = con.get_folder_by_path(PROJECT, "/assets/characters/hero")
    check(f"{tag}: folder by /path id", same["id"], hero["id"])
    check(f"{tag}: missing folder", con.get_folder_by_path(PROJECT, "assets/nope"), None)
    parent = con.get_folder_by_id(PROJECT, hero["parentId"])
    check(f"{tag}: parent folder path", parent["path"], "/assets/characters")

    # Latest version: highest version >= 0 (the hero -3 does not count).
    last = con.get_last_version_by_product_name(PROJECT, "usdAsset", hero["id"])
    check(f"{tag}: latest usdAsset version", last["version"], 3)
    check(f"{tag}: latest usdAsset name", last["name"], "v003")
    product_id = last["productId"]
    product = con.get_product_by_name(PROJECT, "usdAsset", hero["id"])
    check(f"{tag}: product id", product["id"], product_id)
    check(f"{tag}: product type", product["productType"], "usd")

    all_versions = sorted(v["version"] for v in con.get_versions(PROJECT, product_ids=[product_id]))
    check(f"{tag}: all usdAsset versions", all_versions, [-3, 1, 2, 3])

    hero_version = con.get_hero_version_by_product_id(PROJECT, product_id)
    check(f"{tag}: hero version number", hero_version["version"], -3)
    check(f"{tag}: hero version name", hero_version["name"], "HERO")

    model_last = con.get_last_version_by_product_name(PROJECT, "modelMain", hero["id"])
    check(f"{tag}: modelMain latest", model_last["name"], "v002")
    check(
        f"{tag}: modelMain has no hero",
        con.get_hero_version_by_product_id(PROJECT, model_last["productId"]),
        None,
    )

    shot = con.get_folder_by_path(PROJECT, "shots/sq010/sh010")
    shot_last = con.get_last_version_by_product_name(PROJECT, "usdShot", shot["id"])
    check(f"{tag}: usdShot latest", shot_last["version"], 2)
    shot_hero = con.get_hero_version_by_product_id(PROJECT, shot_last["productId"])
    check(f"{tag}: usdShot hero", shot_hero["version"], -2)

    # Representations: attrib.path, context dict, files with int size.
    rep = con.get_representation_by_name(PROJECT, "usd", last["id"])
    check(f"{tag}: representation name", rep["name"], "usd")
    check(f"{tag}: representation versionId", rep["versionId"], last["id"])
    check(
        f"{tag}: representation path",
        rep["attrib"]["path"],
        "{root[work]}/demo_offline/assets/characters/hero/publish/usd/usdAsset/v003/"
        "demo_hero_usdAsset_v003.usd",
    )
    check(f"{tag}: representation context version", rep["context"]["version"], 3)
    check(f"{tag}: representation context folder", rep["context"]["folder"]["name"], "hero")
    check(f"{tag}: representation file name", rep["files"][0]["name"], "demo_hero_usdAsset_v003.usd")
    check(f"{tag}: representation file size is int", isinstance(rep["files"][0]["size"], int), True)
    check(f"{tag}: no abc in v003", con.get_representation_by_name(PROJECT, "abc", last["id"]), None)

    names = sorted(
        r["name"] for r in con.get_representations(PROJECT, version_ids=[hero_version["id"]])
    )
    check(f"{tag}: hero representations", names, ["usd"])

    parents = con.get_representations_parents(PROJECT, [rep["id"]])[rep["id"]]
    check(f"{tag}: parents version", parents.version["name"], "v003")
    check(f"{tag}: parents product", parents.product["name"], "usdAsset")
    check(f"{tag}: parents folder", parents.folder["path"], "/assets/characters/hero")
    check(f"{tag}: parents project", parents.project["name"], PROJECT)

    # More than one page (ayon_api asks for 300 at a time): every entity exactly once.
    all_ids = [v["id"] for v in con.get_versions(PROJECT, fields={"id"})]
    check(f"{tag}: versions over two pages", (len(all_ids), len(set(all_ids))), (309, 309))
    rep_ids = [r["id"] for r in con.get_representations(PROJECT, fields={"id"})]
    check(f"{tag}: representations over two pages", (len(rep_ids), len(set(rep_ids))), (314, 314))
    check(f"{tag}: folder count", len(list(con.get_folders(PROJECT, fields={"id"}))), 107)

    # Site roots of the connection's own site (x-ayon-site-id).
    check(f"{tag}: roots by site id", con.get_project_roots_by_site_id(PROJECT), site_roots)
    # Recorded quirk: with a site header the server uses the site's platform, not `platform=`.
    check(
        f"{tag}: roots by platform with a site header",
        con.get_project_roots_by_platform(PROJECT, "darwin"),
        site_roots,
    )
    print(json.dumps({"tag": tag, "latest": last["id"], "hero": hero_version["id"]}), flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # noqa: BLE001 - report and fail with a non-zero status
        print(f"FAILED: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        raise
