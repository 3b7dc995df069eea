"""ayon_offline from real Python against a real `ayon testkit serve` process."""

import ast
import json
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time
import types

import pytest

import ayon_offline
from conftest import (
    HERO_LATEST,
    HERO_V1,
    HERO_V2,
    NEVER_SEEN,
    NO_SUCH_PRODUCT,
    SHOT_HERO,
    Testkit,
    clean_env,
    wait_until,
)

STUBS = pathlib.Path(__file__).resolve().parent.parent / "python" / "ayon_offline" / "__init__.pyi"
KINDS = [
    "invalid", "not_found", "server_error", "offline", "unknown_root", "auth", "transport",
    "timeout", "http", "decode", "config", "not_pinned", "cache", "runtime", "cancelled",
]


def public(module):
    """Public names; the native submodule maturin's package wraps is an implementation detail."""
    names = {n for n in dir(module) if not isinstance(getattr(module, n), types.ModuleType)}
    return {n for n in names if not n.startswith("_")} | ({"__version__"} & names)


def test_stubs_name_exactly_what_the_module_exports():
    tree = ast.parse(STUBS.read_text())
    stubbed = set()
    members = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            stubbed.add(node.name)
            members[node.name] = {
                n.name for n in node.body if isinstance(n, ast.FunctionDef)
            } | {n.target.id for n in node.body if isinstance(n, ast.AnnAssign)}
        elif isinstance(node, ast.FunctionDef):
            stubbed.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            stubbed.add(node.target.id)
        elif isinstance(node, ast.Assign):
            stubbed.update(t.id for t in node.targets)
    stubbed = {n for n in stubbed if not n.startswith("_")} | ({"__version__"} & stubbed)
    assert stubbed == public(ayon_offline)
    # Every class's public members as well (methods, properties; not dunders).
    for name, stub_members in members.items():
        cls = getattr(ayon_offline, name)
        if issubclass(cls, BaseException):
            continue
        real = {m for m in dir(cls) if not m.startswith("_")}
        assert {m for m in stub_members if not m.startswith("_")} == real, name


def test_one_exception_per_error_kind_under_one_base():
    base = ayon_offline.AyonOfflineError
    assert issubclass(base, Exception)
    found = {}
    for name in dir(ayon_offline):
        obj = getattr(ayon_offline, name)
        if isinstance(obj, type) and issubclass(obj, base) and obj is not base:
            found[obj.kind] = name
    assert sorted(found) == sorted(KINDS)
    assert found["offline"] == "OfflineError"
    assert found["invalid"] == "InvalidUriError"
    assert found["not_pinned"] == "NotPinnedError"


def test_online_resolve_then_memory(testkit, tmp_path):
    r = ayon_offline.Resolver(**testkit.resolver_kwargs(tmp_path))
    first = r.resolve_info(HERO_V1)
    assert first.source == "server" and not first.stale
    assert first.path.startswith("/mnt/projects/demo_offline/") and first.path.endswith(".usd")
    assert r.resolve(HERO_V1) == first.path
    assert os.fspath(first) == first.path
    stats = r.stats()
    assert stats["server_answers"] == 1 and stats["memory_hits"] == 1
    assert r.resolve(HERO_V1 + ":SDF_FORMAT_ARGS:target=preview") == (
        first.path + ":SDF_FORMAT_ARGS:target=preview"
    )


def test_errors_raise_typed_exceptions_and_resolve_many_returns_them(testkit, tmp_path):
    r = ayon_offline.Resolver(**testkit.resolver_kwargs(tmp_path))
    bad = "ayon://demo_offline/a?product=x&version=banana"
    with pytest.raises(ayon_offline.InvalidUriError) as info:
        r.resolve(bad)
    assert info.value.kind == "invalid" and "banana" in str(info.value)
    assert info.value.path == bad
    assert info.value.position == bad.index("banana"), info.value.position
    with pytest.raises(ayon_offline.NotFoundError):
        r.resolve(NO_SUCH_PRODUCT)
    answers = r.resolve_many([HERO_V1, bad, HERO_V2, "", SHOT_HERO])
    assert [type(a).__name__ for a in answers] == [
        "Resolved", "ResolveError", "Resolved", "ResolveError", "Resolved",
    ]
    assert answers[1].kind == "invalid" and not answers[1]
    assert answers[1].position == info.value.position
    assert answers[1].exception().position == info.value.position
    assert isinstance(answers[1].exception(), ayon_offline.InvalidUriError)
    assert answers[3].kind == "not_found"
    assert "v002" in answers[2].path
    assert r.prewarm([HERO_V1, HERO_V2]) == 2


def test_server_stopped_answers_from_cache(testkit, tmp_path):
    r = ayon_offline.Resolver(**testkit.resolver_kwargs(tmp_path))
    v1 = r.resolve(HERO_V1)
    latest = r.resolve(HERO_LATEST)
    testkit.stop()
    # A new resolver (a new session) over the same cache directory.
    r2 = ayon_offline.Resolver(**testkit.resolver_kwargs(tmp_path))
    got = r2.resolve_info(HERO_V1)
    assert got.path == v1 and got.source == "cache"
    assert r2.resolve(HERO_LATEST) == latest
    start = time.monotonic()
    with pytest.raises(ayon_offline.AyonOfflineError) as info:
        r2.resolve(NEVER_SEEN)
    assert info.value.kind in ("offline", "transport", "timeout"), info.value
    assert time.monotonic() - start < 10


def test_pinning_mode_asks_no_server(tmp_path):
    pin = tmp_path / "job_pin.json"
    pin.write_text(json.dumps({"ayon_resolver_pinning_data": {
        HERO_V1: "{root[work]}/demo_offline/hero_v001.usd",
        "ayon_pinning_data_entry_scene": "{root[work]}/demo_offline/sh010.usd",
    }}))
    r = ayon_offline.Resolver(
        pinning="pinning_only", pinning_file=str(pin), pinning_roots="work=/mnt/farm"
    )
    assert r.pinning_policy == "pinning_only"
    spelled = "ayon://demo_offline//assets/characters/hero?product=usdAsset&version=1&representation=usd"
    hit = r.resolve_info(spelled)
    assert hit.path == "/mnt/farm/demo_offline/hero_v001.usd" and hit.source == "pinning"
    with pytest.raises(ayon_offline.NotPinnedError) as info:
        r.resolve(HERO_V2)
    assert "job_pin.json" in str(info.value)
    assert r.stats()["server_answers"] == 0
    with pytest.raises(ValueError):
        ayon_offline.Resolver(pinning="sometimes")


def test_contexts_mapping_and_caches(testkit, tmp_path):
    r = ayon_offline.Resolver(**testkit.resolver_kwargs(tmp_path))
    connected = r.connected_context()
    assert r.GetConnectedContext() == connected
    assert hash(r.GetConnectedContext()) == hash(connected)
    path = r.resolve(HERO_V1)
    assert connected.cached_len() >= 1
    assert connected.deleteFromCache(HERO_V1) is True
    assert connected.delete_from_cache(HERO_V1) is False
    assert r.resolve(HERO_V1) == path

    ctx = r.new_context()
    assert ctx != connected and ctx.shares_cache_with(connected)
    local = tmp_path / "local_hero.usd"
    local.write_text("#usda 1.0\n")
    assert ctx.add_mapping_pair(HERO_V2, str(local)) is None
    assert ctx.mapping_pairs() == {HERO_V2: str(local)}
    mapped = r.resolve_info(HERO_V2, ctx)
    assert mapped.path == str(local) and mapped.source == "mapping"
    assert "v002" in r.resolve(HERO_V2)  # the connected context has no pair
    ctx.clearCache()
    assert connected.cached_len() == 0  # shared: cleared for both
    ctx.dropCache()
    assert not ctx.shares_cache_with(connected)
    ctx.drop_cache()
    ctx.clear_cache()
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"mappingPairs": {HERO_V1: str(local)}}))
    assert ctx.set_mapping_file(str(mapping)) == 1
    assert r.resolve(HERO_V1, ctx) == str(local)
    with pytest.raises(ayon_offline.ConfigError):
        ctx.set_mapping_file(str(tmp_path / "missing.json"))
    assert ctx.remove_mapping(HERO_V1) == str(local)


def test_state_callback_sees_stop_and_restart_and_survives_an_exception(testkit, tmp_path):
    r = ayon_offline.Resolver(**testkit.resolver_kwargs(tmp_path))
    seen = []
    unraisable = []
    old_hook = sys.unraisablehook
    sys.unraisablehook = lambda u: unraisable.append(u.exc_value)

    def callback(state):
        seen.append(state.kind)
        if len(seen) == 1:
            raise ValueError("a host bug in the callback")

    try:
        sub = r.on_state_change(callback)
        assert sub.active
        # The first transition may happen before the subscription is in place: wait on state().
        wait_until("online", 10, lambda: r.state().is_online)
        assert r.state() == "online" and "online" in {r.state()}
        testkit.stop()
        wait_until("offline", 15, lambda: "offline" in seen)
        assert r.state().kind == "offline" and r.state().reason
        testkit.start()
        wait_until("online again", 20, lambda: "online" in seen[seen.index("offline"):])
        assert r.state().is_online
        assert any(isinstance(e, ValueError) for e in unraisable), unraisable
        sub.unsubscribe()
        assert not sub.active
    finally:
        sys.unraisablehook = old_hook
    with pytest.raises(TypeError):
        r.on_state_change(42)


def cold_uris(tag, n):
    return [
        f"ayon+entity://demo_offline/assets/characters/hero?product={tag}{i}&version=v001&representation=usd"
        for i in range(n)
    ]


def test_eight_threads_overlap_with_the_gil_released(slow_testkit, tmp_path):
    # One resolver per thread: nothing shared can batch the requests together.
    def resolver(name):
        return ayon_offline.Resolver(
            **slow_testkit.resolver_kwargs(tmp_path / name), monitor=False
        )

    # Baseline: one cold resolve alone (login, site roots, resolve: all behind the latency).
    alone = resolver("alone")
    start = time.monotonic()
    with pytest.raises(ayon_offline.NotFoundError):
        alone.resolve(cold_uris("alone", 1)[0])
    one = time.monotonic() - start

    uris = cold_uris("p", 8)
    resolvers = [resolver(str(i)) for i in range(8)]
    answers = [None] * 8
    barrier = threading.Barrier(9)

    def work(i):
        barrier.wait()
        try:
            answers[i] = resolvers[i].resolve(uris[i])
        except ayon_offline.AyonOfflineError as e:
            answers[i] = e.kind

    spins = [0]
    done = threading.Event()

    def spin():
        while not done.is_set():
            spins[0] += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    spinner = threading.Thread(target=spin)
    spinner.start()
    start = time.monotonic()
    barrier.wait()
    for t in threads:
        t.join(timeout=60)
    elapsed = time.monotonic() - start
    done.set()
    spinner.join()
    assert answers == ["not_found"] * 8, answers
    latency = slow_testkit.latency_ms / 1000
    print(f"\n8 threads, {latency * 1000:.0f} ms latency: {elapsed * 1000:.0f} ms for 8 cold "
          f"resolves; one alone {one * 1000:.0f} ms (serial: {8 * one * 1000:.0f} ms); "
          f"a Python thread ran {spins[0]} loops meanwhile")
    # Serialised, 8 calls take 8 x one; overlapping, about one. Half of serial is far from both.
    assert elapsed < 4 * one, (elapsed, one)
    assert spins[0] > 1000, "a Python thread could not run while resolves waited"


def test_a_hanging_server_does_not_hold_the_caller(testkit, tmp_path):
    # moving_ttl=0: the cached `latest` is past its freshness at once, so it must be asked for.
    r = ayon_offline.Resolver(**testkit.resolver_kwargs(tmp_path), moving_ttl=0.0)
    v1 = r.resolve(HERO_V1)
    latest = r.resolve(HERO_LATEST)
    # SIGSTOP: the kernel still accepts TCP connections, nothing ever answers.
    os.kill(testkit.proc.pid, signal.SIGSTOP)
    try:
        kwargs = testkit.resolver_kwargs(tmp_path)
        kwargs["request_timeout"] = 1.0
        hung = ayon_offline.Resolver(**kwargs, moving_ttl=0.0)
        start = time.monotonic()
        assert hung.resolve(HERO_V1) == v1  # exact version: from the cache, no request
        assert time.monotonic() - start < 0.5
        start = time.monotonic()
        got = hung.resolve_info(HERO_LATEST)  # moving, expired: asks, times out, falls back
        waited = time.monotonic() - start
        assert got.path == latest and got.source == "cache" and got.stale, got
        assert waited < 5, waited
        start = time.monotonic()
        with pytest.raises(ayon_offline.AyonOfflineError) as info:
            hung.resolve(NEVER_SEEN)
        assert info.value.kind in ("offline", "timeout", "transport"), info.value
        assert time.monotonic() - start < 5
    finally:
        os.kill(testkit.proc.pid, signal.SIGCONT)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX-only")
def test_a_forked_child_resolves(testkit, tmp_path):
    r = ayon_offline.Resolver(**testkit.resolver_kwargs(tmp_path))
    v1 = r.resolve(HERO_V1)
    pid = os.fork()
    if pid == 0:  # the child: a DCC render fork
        code = 1
        try:
            ok = r.resolve(HERO_V1) == v1 and "v002" in r.resolve(HERO_V2)
            code = 0 if ok else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


HOUDINI_EXPRESSION = r"""
import sys, ayon_offline
URI, URL, KEY, CACHE = sys.argv[1:5]
_resolver = None
def hou_expr():
    # What a loader HDA's file parameter evaluates on every cook / scene open.
    global _resolver
    if _resolver is None:
        _resolver = ayon_offline.Resolver(URL, KEY, "offline-test-linux", CACHE,
                                          connect_timeout=0.5, request_timeout=2.0)
    return _resolver.resolve(URI)
print(hou_expr())
print(hou_expr())
"""


def test_houdini_expression_keeps_the_last_good_path_in_a_new_process(testkit, tmp_path):
    script = tmp_path / "hda_expr.py"
    script.write_text(HOUDINI_EXPRESSION)
    cache = tmp_path / "cache"
    args = [sys.executable, str(script), HERO_LATEST, testkit.url, testkit.api_key, str(cache)]
    online = subprocess.run(args, capture_output=True, text=True, env=clean_env(), timeout=60)
    assert online.returncode == 0, online.stderr
    lines = online.stdout.split()
    assert len(lines) == 2 and lines[0] == lines[1] and lines[0].endswith(".usd")
    testkit.stop()
    offline = subprocess.run(args, capture_output=True, text=True, env=clean_env(), timeout=60)
    assert offline.returncode == 0, offline.stderr
    assert offline.stdout.split() == lines


def test_unchanged_ayon_python_api_imports_in_the_same_interpreter(testkit, tmp_path):
    import ayon_api

    assert ayon_api.__version__ == "1.2.25"
    con = ayon_api.ServerAPI(testkit.url, token=testkit.api_key, site_id="offline-test-linux")
    assert con.get_project("demo_offline")["name"] == "demo_offline"
    r = ayon_offline.Resolver(**testkit.resolver_kwargs(tmp_path))
    assert r.resolve(HERO_V1).endswith(".usd")


def test_prepare_offline_then_offline_latest_and_hero_from_the_index(testkit, tmp_path):
    r = ayon_offline.Resolver(**testkit.resolver_kwargs(tmp_path))
    seen = []
    report = r.prepare_offline("demo_offline", all_versions=True, progress=seen.append)
    assert report["project"] == "demo_offline"
    assert report["representations"] > 100, report
    assert seen and {"phase", "entities", "bytes", "requests"} <= set(seen[-1])
    assert [p["name"] for p in r.prepared_projects()] == ["demo_offline"]
    assert report["mode"] == "full" and "first prepare" in report["reason"], report
    # Prepared again, unchanged: only the changes are read, and there are (almost) none.
    again = r.prepare_offline("demo_offline", all_versions=True)
    assert again["mode"] == "incremental" and again["fetched"] <= 5, again
    assert again["representations"] == report["representations"], again
    testkit.stop()
    # A new session, same cache directory, no server: URIs never resolved come from the index.
    offline = ayon_offline.Resolver(**testkit.resolver_kwargs(tmp_path))
    for uri in (HERO_LATEST, SHOT_HERO, NEVER_SEEN):
        got = offline.resolve_info(uri)
        assert got.source == "local_index", (uri, got)
    assert "/v003/" in offline.resolve(HERO_LATEST)
    with pytest.raises(ValueError):
        offline.prepare_offline("demo_offline", folders=["assets"], uris=[HERO_V1])


def test_prepare_offline_is_cancellable(slow_testkit, tmp_path):
    r = ayon_offline.Resolver(**slow_testkit.resolver_kwargs(tmp_path), monitor=False)
    # From the progress callback.
    with pytest.raises(ayon_offline.CancelledError):
        r.prepare_offline("demo_offline", progress=lambda p: False)
    # From another thread.
    token = ayon_offline.CancelToken()
    threading.Timer(0.4, token.cancel).start()
    start = time.monotonic()
    with pytest.raises(ayon_offline.CancelledError) as info:
        r.prepare_offline("demo_offline", cancel=token)
    assert token.cancelled and info.value.kind == "cancelled"
    assert time.monotonic() - start < 10
    # Ctrl-C: SIGINT to this process while the main thread waits in prepare_offline.
    threading.Timer(0.4, os.kill, (os.getpid(), signal.SIGINT)).start()
    with pytest.raises(KeyboardInterrupt):
        r.prepare_offline("demo_offline")
    assert r.prepared_projects() == []
