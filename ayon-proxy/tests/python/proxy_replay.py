"""Drives the UNCHANGED ayon-python-api 1.2.25 through ayon-proxy.

Run twice by `tests/python_api.rs`, each time in a new process, with AYON_SERVER_URL pointing
at the proxy and AYON_API_KEY set:

    proxy_replay.py record FILE   server up: the calls the launcher and ayon-core make at
                                  startup and when loading; their return values go to FILE
    proxy_replay.py replay FILE   server stopped: the same calls must return equal values;
                                  prints `time <call> <ms>` for each; then offline writes must
                                  raise ayon_api's own error carrying the proxy's message
    proxy_replay.py loop FILE STOP  until the file STOP exists, while the test restarts, crashes
                                  and hangs the server: the calls again and again, each equal
                                  to FILE's value; prints the slowest call's time

Prints `ALL EQUAL <n>` (replay), `RECORDED <n>` (record) or `LOOPED <n> max <ms>` (loop) last;
any failure raises.
"""

import json
import os
import sys
import time

import ayon_api
from ayon_api import ServerAPI
from ayon_api.exceptions import HTTPRequestError

PROJECT = "demo_offline"
SITE = "offline-test-linux"
HERO_FOLDER = "/assets/characters/hero"
URIS = [
    "ayon://demo_offline/assets/characters/hero?product=usdAsset&version=latest&representation=usd",
    "ayon://demo_offline/assets/characters/hero?product=usdAsset&version=hero&representation=usd",
    "ayon://demo_offline/shots/sq010/sh010?product=usdShot&version=v001&representation=abc",
]
QUERY = """query ProxyProof($name: String!) {
  project(name: $name) { folders { edges { node { id name path folderType } } } }
}"""


def plain(value):
    """A JSON-comparable copy (generators listed, tuples as lists, a response as its data)."""

    def other(o):
        data = getattr(o, "data", None)
        return data if data is not None else list(o)

    return json.loads(json.dumps(value, default=other, sort_keys=True))


def calls(con):
    """(name, thunk) for every call; later thunks use earlier answers, as a loader does."""
    found = {}

    def folders():
        out = list(con.get_folders(PROJECT))
        found["folder_id"] = next(f["id"] for f in out if f["path"] == HERO_FOLDER)
        return out

    def products():
        out = list(con.get_products(PROJECT, folder_ids=[found["folder_id"]]))
        found["product_id"] = next(p["id"] for p in out if p["name"] == "usdAsset")
        return out

    def last_version():
        v = con.get_last_version_by_product_name(PROJECT, "usdAsset", found["folder_id"])
        found["version_id"] = v["id"]
        return v

    return [
        ("is_server_available", lambda: con.is_server_available),
        ("get_user", con.get_user),
        ("get_projects", lambda: list(con.get_projects())),
        ("get_project", lambda: con.get_project(PROJECT)),
        ("get_folders", folders),
        ("get_tasks", lambda: list(con.get_tasks(PROJECT))),
        ("get_products", products),
        ("get_versions", lambda: list(con.get_versions(PROJECT, product_ids=[found["product_id"]]))),
        ("get_last_version_by_product_name", last_version),
        ("get_hero_version_by_product_id",
         lambda: con.get_hero_version_by_product_id(PROJECT, found["product_id"])),
        ("get_representations",
         lambda: list(con.get_representations(PROJECT, version_ids=[found["version_id"]]))),
        ("get_representation_by_name",
         lambda: con.get_representation_by_name(PROJECT, "usd", found["version_id"])),
        ("get_project_roots_by_site_id", lambda: con.get_project_roots_by_site_id(PROJECT)),
        ("resolve_uris", lambda: con.resolve_uris(URIS)),
        ("resolve_uris roots", lambda: con.resolve_uris(URIS, resolve_roots=True)),
        ("query_graphql", lambda: con.query_graphql(QUERY, {"name": PROJECT}).data),
        # Last: its answer carries the server's uptime, and the store keeps the last answer of
        # `/api/info` the session asked (ayon_api asks it again on its own while loading).
        ("get_info", con.get_info),
    ], found


def loop(todo, recorded, stop_file):
    """The calls again and again; `get_info` without the server's uptime, which moves."""

    def comparable(name, value):
        value = plain(value)
        if name == "get_info":
            value.pop("uptime", None)
        return value

    for info in ("get_info",):
        recorded[info].pop("uptime", None)
    slowest, count = 0.0, 0
    deadline = time.monotonic() + 120.0
    while not os.path.exists(stop_file) and time.monotonic() < deadline:
        for name, fn in todo:
            started = time.perf_counter()
            value = fn()
            slowest = max(slowest, (time.perf_counter() - started) * 1000.0)
            count += 1
            if comparable(name, value) != recorded[name]:
                raise AssertionError(f"{name}: {plain(value)!r} != recorded {recorded[name]!r}")
    print(f"LOOPED {count} max {slowest:.0f}", flush=True)


def admin():
    """A connection with the admin's session token (a second user)."""
    return ServerAPI(os.environ["AYON_SERVER_URL"], token=os.environ["AYON_TEST_ADMIN_TOKEN"], site_id=SITE)


def main():
    mode, path = sys.argv[1], sys.argv[2]
    assert ayon_api.__version__ == "1.2.25", ayon_api.__version__
    con = ServerAPI(os.environ["AYON_SERVER_URL"], token=os.environ["AYON_API_KEY"], site_id=SITE)
    todo, found = calls(con)
    if mode == "record":
        values = {name: plain(fn()) for name, fn in todo}
        # A second identity: the admin's session token.
        values["admin get_user"] = plain(admin().get_user())
        with open(path, "w", encoding="utf-8") as f:
            json.dump(values, f)
        print(f"RECORDED {len(todo)}", flush=True)
        return

    with open(path, encoding="utf-8") as f:
        recorded = json.load(f)
    if mode == "loop":
        loop(todo, recorded, sys.argv[3])
        return
    equal = 0
    for name, fn in todo:
        started = time.perf_counter()
        value = fn()
        ms = (time.perf_counter() - started) * 1000.0
        print(f"time {name} {ms:.3f}", flush=True)
        if plain(value) != recorded[name]:
            raise AssertionError(f"{name}: offline {plain(value)!r} != online {recorded[name]!r}")
        equal += 1

    # Offline writes: ayon_api's own error, with the proxy's message; nothing written.
    writes = [
        ("create_folder", lambda: con.create_folder(PROJECT, "made_offline", folder_type="Asset")),
        ("update_version",
         lambda: con.update_version(PROJECT, found["version_id"], attrib={"comment": "offline"})),
    ]
    for name, fn in writes:
        started = time.perf_counter()
        try:
            fn()
        except HTTPRequestError as e:
            message = str(e)
            if "was not sent" not in message or "503" not in message:
                raise AssertionError(f"{name}: unexpected message {message!r}")
            ms = (time.perf_counter() - started) * 1000.0
            print(f"write {name} refused in {ms:.0f} ms: {message}", flush=True)
        else:
            raise AssertionError(f"{name} did not raise offline")
    after = [f["path"] for f in con.get_folders(PROJECT)]
    if any("made_offline" in p for p in after):
        raise AssertionError("an offline write reached the store")

    # Two identities apart offline; a key the server never accepted is refused (401).
    admin_user = plain(admin().get_user())
    if admin_user != recorded["admin get_user"] or admin_user["name"] == recorded["get_user"]["name"]:
        raise AssertionError(f"identities mixed: {admin_user['name']} / {recorded['get_user']['name']}")
    wrong = ServerAPI(
        os.environ["AYON_SERVER_URL"], token="abcdefghijabcdefghijabcdefghij99", site_id=SITE
    )
    if wrong.has_valid_token:
        raise AssertionError("a key the server never accepted was taken offline")
    print(f"identities apart: {admin_user['name']} / {recorded['get_user']['name']}", flush=True)
    print(f"ALL EQUAL {equal}", flush=True)


if __name__ == "__main__":
    main()
