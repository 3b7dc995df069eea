"""Bench: a cached `Resolver.resolve()` from Python against `ayon_api.resolve_uris` one URI at
a time on the same `ayon testkit serve` (loopback, no added latency).

Run with the venv ayon-python/run-tests makes: `AYON_BIN=target/debug/ayon
target/ayon-python-venv/bin/python ayon-python/tests/bench_resolve.py` (build the module with
`maturin develop --release` for release figures).
"""

import sys
import tempfile
import timeit

import ayon_api

import ayon_offline
from conftest import HERO_V1, SITE_ID, Testkit


def best_per_call(fn, number):
    return min(timeit.repeat(fn, number=number, repeat=5)) / number


def main():
    tk = Testkit()
    try:
        with tempfile.TemporaryDirectory() as cache:
            r = ayon_offline.Resolver(**tk.resolver_kwargs(cache), monitor=False)
            path = r.resolve(HERO_V1)
            cached = best_per_call(lambda: r.resolve(HERO_V1), 200_000)
            con = ayon_api.ServerAPI(tk.url, token=tk.api_key, site_id=SITE_ID)
            ayon_answer = con.resolve_uris([HERO_V1], resolve_roots=True, site_id=SITE_ID)
            assert ayon_answer[0]["entities"][0]["filePath"] == path, (ayon_answer, path)
            one_by_one = best_per_call(
                lambda: con.resolve_uris([HERO_V1], resolve_roots=True, site_id=SITE_ID), 200
            )
    finally:
        tk.stop()
    print(f"python {sys.version.split()[0]}")
    print(f"ayon_offline.Resolver.resolve (cached):        {cached * 1e9:10.0f} ns/call")
    print(f"ayon_api.resolve_uris, one URI per request:    {one_by_one * 1e9:10.0f} ns/call")
    print(f"ratio: {one_by_one / cached:.0f}x")


if __name__ == "__main__":
    main()
