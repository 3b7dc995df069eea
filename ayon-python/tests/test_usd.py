"""ayon_offline.usd on real .usda files with real usd-core, resolved by a real testkit.

The testkit's site roots for our site are pointed at a temporary directory (AYON's per-site root
override), so every URI resolves to a file under it; the test writes the layers there, at the
paths the testkit's templates produce.
"""

import ast
import json
import pathlib
import subprocess
import sys
import textwrap

import pytest

import ayon_offline
import ayon_offline.usd as usd
from conftest import HERO_V1, NO_SUCH_PRODUCT, clean_env

STUBS = pathlib.Path(__file__).resolve().parent.parent / "python" / "ayon_offline" / "usd.pyi"

PROP1 = "ayon://demo_offline/assets/props/prop001?product=usdAsset&version=v001&representation=usd"
PROP2_LATEST = (
    "ayon+entity://demo_offline/assets/props/prop002?product=usdAsset&version=latest"
    "&representation=usd"
)
PROP3 = "ayon://demo_offline/assets/props/prop003?product=usdAsset&version=2&representation=usd"
MODEL = (
    "ayon+entity://demo_offline/assets/characters/hero?product=modelMain&version=v002"
    "&representation=usd"
)
HERO_ABC = (
    "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=v001"
    "&representation=abc"
)


def usda(body=""):
    return "#usda 1.0\n" + textwrap.dedent(body)


def write(path, text):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def site(testkit, tmp_path):
    """The testkit with our site's `work` root at tmp/projects, and the published layers of the
    graph written where the URIs resolve:

    level 0  shot.usda (file) + its sublayer anim.usda (file)
    level 1  HERO_V1, PROP1, PROP2_LATEST (layers), HERO_ABC and MODEL (asset attributes)
             + look.usda (a file next to HERO_V1's layer, named relatively) with UDIM tiles
    level 2  PROP3 (in an asset[] attribute of look.usda); MODEL's layer (HERO_V1 references
             it: resolved already as an attribute value, opened now without a request)
    level 3  HERO_V1 again (MODEL references back: a cycle, already resolved, no request)
    """
    root = tmp_path / "projects"
    testkit.put_site_roots("demo_offline", {"work": str(root)})
    probe = ayon_offline.Resolver(**testkit.resolver_kwargs(tmp_path / "probe-cache"))
    paths = {u: probe.resolve(u) for u in (HERO_V1, PROP1, PROP2_LATEST, MODEL)}
    for p in paths.values():
        assert p.startswith(str(root) + "/"), p
    write(paths[HERO_V1], usda("""
        def "hero" (references = @%s@) {
            def "look" (references = @./look.usda@) {}
        }
        """ % MODEL))
    write(pathlib.Path(paths[HERO_V1]).parent / "look.usda", usda("""
        def "look" {
            asset[] textures = [@%s@, @./tex/albedo.<UDIM>.exr@]
        }
        """ % PROP3))
    for tile in (1001, 1002):
        write(pathlib.Path(paths[HERO_V1]).parent / "tex" / f"albedo.{tile}.exr", "")
    write(paths[PROP1], usda('def "prop001" {}\n'))
    write(paths[PROP2_LATEST], usda('def "prop002" {}\n'))
    write(paths[MODEL], usda('def "geo" (references = @%s@) {}\n' % HERO_V1))
    shot_dir = root / "demo_offline" / "shots" / "sq010" / "sh010" / "work"
    write(shot_dir / "anim.usda", usda('def "prop002" (references = @%s@) {}\n' % PROP2_LATEST))
    shot = write(shot_dir / "shot.usda", usda("""
        (
            subLayers = [@./anim.usda@]
        )
        def "hero" (references = @%s@) {
            asset cache = @%s@
            asset model = @%s@
        }
        def "prop001" (payload = @%s:SDF_FORMAT_ARGS:lod=preview@) {}
        """ % (HERO_V1, HERO_ABC, MODEL, PROP1)))
    return testkit, root, shot, tmp_path


def test_pin_stage_pins_the_closure_with_one_request_per_level(site):
    testkit, root, shot, tmp = site
    resolver = ayon_offline.Resolver(**testkit.resolver_kwargs(tmp / "cache"))
    before = testkit.counters()["resolveRequests"]
    pin = tmp / "farm" / "job_pin.json"
    report = usd.pin_stage(str(shot), pin, resolver)

    assert report.ok, report.errors
    assert report.levels == 2
    assert testkit.counters()["resolveRequests"] - before == report.levels
    base_uris = {HERO_V1, PROP1, PROP2_LATEST, HERO_ABC, MODEL, PROP3}
    assert set(report.resolved) == base_uris
    assert len(report.layers) == 7  # shot, anim, hero, look, prop001, prop002, model
    assert str(pathlib.Path(shot).parent / "anim.usda") in report.files
    hero_dir = pathlib.Path(report.resolved[HERO_V1]).parent
    tiles = [str(hero_dir / "tex" / f"albedo.{t}.exr") for t in (1001, 1002)]
    assert set(tiles) <= set(report.files)
    assert report.resolved[MODEL] in report.layers
    assert report.out_file == str(pin)

    data = json.loads(pin.read_text())["ayon_resolver_pinning_data"]
    assert data["ayon_pinning_data_entry_scene"] == (
        "{root[work]}/demo_offline/shots/sq010/sh010/work/shot.usda"
    )
    for uri in base_uris:
        assert data[uri].startswith("{root[work]}/demo_offline/"), (uri, data[uri])
    for tile in tiles:  # file dependencies too, keyed by their path, as AYON's generator does
        rootless = "{root[work]}" + tile[len(str(root)):]
        assert data[rootless] == rootless
    assert "/v003/" in data[PROP2_LATEST]  # `latest` frozen as the version it was
    assert report.pinned == len(data) - 1

    # The farm: no server, another root for `work`; pinning-only finds every URI of the stage.
    testkit.stop()
    farm_root = "/farm/projects"
    farm = ayon_offline.Resolver(
        pinning="pinning_only", pinning_file=str(pin), pinning_roots=f"work={farm_root}"
    )
    for uri, path in report.resolved.items():
        got = farm.resolve_info(uri)
        assert got.source == "pinning", uri
        assert got.path == farm_root + path[len(str(root)):], (uri, got.path)
    assert farm.resolve(PROP1 + ":SDF_FORMAT_ARGS:lod=preview").endswith(
        ":SDF_FORMAT_ARGS:lod=preview"
    )
    assert farm.stats()["server_answers"] == 0


def test_pin_stage_reports_an_unresolvable_uri_and_pins_the_rest(site):
    testkit, root, shot, tmp = site
    bad = "ayon://demo_offline/assets/characters/hero?product=usdAsset&version=banana"
    broken = write(shot.parent / "broken.usda", usda("""
        (
            subLayers = [@./shot.usda@, @./missing.usda@]
        )
        def "ghost" (references = @%s@) {}
        def "typo" (references = @%s@) {}
        """ % (NO_SUCH_PRODUCT, bad)))
    resolver = ayon_offline.Resolver(**testkit.resolver_kwargs(tmp / "cache"))
    before = testkit.counters()["resolveRequests"]
    pin = tmp / "broken_pin.json"
    report = usd.pin_stage(broken, pin, resolver)

    assert not report.ok
    by_id = {e.identifier: e for e in report.errors}
    assert by_id[NO_SUCH_PRODUCT].kind == "not_found"
    assert by_id[NO_SUCH_PRODUCT].layer == str(broken)
    assert by_id[bad].kind == "invalid" and "banana" in by_id[bad].message
    missing = str(broken.parent / "missing.usda")
    assert by_id[missing].kind == "layer"
    assert len(report.errors) == 3
    # Everything else is pinned, in the same two requests.
    assert report.levels == 2
    assert testkit.counters()["resolveRequests"] - before == 2
    data = json.loads(pin.read_text())["ayon_resolver_pinning_data"]
    assert NO_SUCH_PRODUCT not in data and bad not in data and missing not in data
    for uri in (HERO_V1, PROP1, PROP2_LATEST, HERO_ABC, MODEL, PROP3):
        assert data[uri].startswith("{root[work]}/"), uri


def test_prewarm_stage_warms_the_cache_for_an_offline_open(site):
    testkit, root, shot, tmp = site
    cache = tmp / "cache"
    resolver = ayon_offline.Resolver(**testkit.resolver_kwargs(cache))
    before = testkit.counters()["resolveRequests"]
    report = usd.prewarm_stage(shot, resolver)
    assert report.ok, report.errors
    assert report.out_file is None and not (tmp / "job_pin.json").exists()
    assert report.counts == {
        "levels": 2, "layers": 7, "uris": 6, "files": len(report.files), "errors": 0, "pinned": 0,
    }
    assert testkit.counters()["resolveRequests"] - before == 2
    # Warm: walking again asks nothing.
    again = usd.prewarm_stage(str(shot), resolver)
    assert again.resolved == report.resolved
    assert testkit.counters()["resolveRequests"] - before == 2
    # A new session with the server gone resolves every URI of the stage from the cache.
    testkit.stop()
    offline = ayon_offline.Resolver(**testkit.resolver_kwargs(cache))
    for uri, path in report.resolved.items():
        assert offline.resolve(uri) == path, uri


def test_a_root_layer_given_as_a_uri_is_resolved_first(site):
    testkit, root, shot, tmp = site
    resolver = ayon_offline.Resolver(**testkit.resolver_kwargs(tmp / "cache"))
    pin = tmp / "hero_pin.json"
    report = usd.pin_stage(HERO_V1, pin, resolver, roots={"work": str(root)})
    assert report.ok, report.errors
    # HERO_V1 itself, then MODEL and PROP3, then nothing new (the cycle back to the hero).
    assert report.levels == 2
    assert set(report.resolved) == {HERO_V1, MODEL, PROP3}
    data = json.loads(pin.read_text())["ayon_resolver_pinning_data"]
    assert data["ayon_pinning_data_entry_scene"] == HERO_V1


def test_site_roots_and_write_pinning_file(site):
    testkit, root, shot, tmp = site
    r = ayon_offline.Resolver(**testkit.resolver_kwargs(tmp / "cache"))
    r.resolve(HERO_V1)
    assert r.site_roots("demo_offline") == {"work": str(root)}  # the per-site override
    entries = {HERO_V1: "/studio/x/a.usd", "/studio/x/b.usd": "/studio/x/b.usd"}
    expected = {"ayon_resolver_pinning_data": {
        HERO_V1: "{root[work]}/a.usd",
        "{root[work]}/b.usd": "{root[work]}/b.usd",
        "ayon_pinning_data_entry_scene": "{root[work]}/shot.usd",
    }}
    for roots in ("work=/studio/x", {"work": "/studio/x"}):
        pin = tmp / "given" / "pin.json"
        pin.parent.mkdir(exist_ok=True)
        assert r.write_pinning_file(pin, entries, "/studio/x/shot.usd", roots) == 2
        assert json.loads(pin.read_text()) == expected
    # Default roots: the site roots of the projects the URIs name.
    assert r.write_pinning_file(pin, {HERO_V1: str(root / "a.usd")}) == 1
    assert json.loads(pin.read_text())["ayon_resolver_pinning_data"] == {
        HERO_V1: "{root[work]}/a.usd"
    }
    with pytest.raises(ayon_offline.ConfigError):
        r.write_pinning_file(pin, entries, roots={"{bad}": "/x"})
    # Offline, a new session: the roots kept in the persistent cache.
    testkit.stop()
    offline = ayon_offline.Resolver(**testkit.resolver_kwargs(tmp / "cache"))
    assert offline.site_roots("demo_offline") == {"work": str(root)}
    with pytest.raises(ayon_offline.AyonOfflineError):
        offline.site_roots("never_seen_project")


def test_without_pxr_the_module_imports_and_the_calls_say_what_is_missing(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pxr", None)
    r = ayon_offline.Resolver(memory_only=True, monitor=False)
    with pytest.raises(ImportError, match="usd-core"):
        usd.prewarm_stage(str(tmp_path / "shot.usda"), r)


def test_usd_stubs_name_exactly_what_the_module_exports():
    tree = ast.parse(STUBS.read_text())
    stubbed = {n.name for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    assert stubbed == set(usd.__all__)
    own = {
        n for n, v in vars(usd).items()
        if not n.startswith("_") and getattr(v, "__module__", None) == usd.__name__
    }
    assert own == set(usd.__all__)
    fields = {
        c.name: {n.target.id for n in c.body if isinstance(n, ast.AnnAssign)}
        for c in tree.body if isinstance(c, ast.ClassDef)
    }
    for name, stub_fields in fields.items():
        assert stub_fields == set(getattr(usd, name).__dataclass_fields__), name


SUBINTERPRETER = r"""
import sys
try:
    import _interpreters as interpreters  # 3.13+
except ImportError:
    import _xxsubinterpreters as interpreters  # 3.9 - 3.12
if sys.argv[2] == "main-first":
    import ayon_offline
code = f'''
try:
    import ayon_offline
    result = "imported " + ayon_offline.Resolver(memory_only=True, monitor=False).resolve("/")
except ImportError as e:
    result = "ImportError: " + str(e)
except BaseException as e:
    result = "other: " + type(e).__name__ + ": " + str(e)
with open({sys.argv[1]!r}, "w") as f:
    f.write(result)
'''
interp = interpreters.create()
interpreters.run_string(interp, code)
interpreters.destroy(interp)
import ayon_offline
print(ayon_offline.Resolver(memory_only=True, monitor=False).resolve("/"))
"""


@pytest.mark.parametrize("order", ["main-first", "sub-first"])
def test_a_subinterpreter_gets_an_import_error_or_a_working_module_never_a_crash(
    tmp_path, order
):
    # A crash would kill this child, not pytest. CPython 3.12+ creates isolated
    # sub-interpreters (own GIL) and refuses our single-phase-init extension with an ImportError
    # before PyO3 runs. 3.9-3.11 sub-interpreters share the GIL and CPython hands them a copy of
    # the module initialised once per process (PyO3's own guard never runs): it works there.
    out = tmp_path / "result.txt"
    script = tmp_path / "sub.py"
    script.write_text(SUBINTERPRETER)
    done = subprocess.run(
        [sys.executable, str(script), str(out), order],
        capture_output=True, text=True, env=clean_env(), timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["/"]  # the main interpreter's module works afterwards
    result = out.read_text()
    if sys.version_info >= (3, 12):
        assert result == (
            "ImportError: module ayon_offline._native does not support loading in subinterpreters"
        ), result
    else:
        assert result == "imported /", result
