"""Fixtures: the `ayon testkit serve` binary as a real child process, and tmp cache dirs.

`AYON_BIN` names the `ayon` binary (ayon-python/run-tests sets it); the module under test is
the `ayon_offline` installed into the running interpreter by `maturin develop`.
"""

import json
import os
import subprocess
import time
import urllib.request

import pytest

SITE_ID = "offline-test-linux"
HERO_V1 = "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=v001&representation=usd"
HERO_V2 = "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=v002&representation=usd"
HERO_LATEST = "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=latest&representation=usd"
SHOT_HERO = "ayon://demo_offline/shots/sq010/sh010?product=usdShot&version=hero&representation=abc"
NO_SUCH_PRODUCT = "ayon+entity://demo_offline/assets/characters/hero?product=noSuchProduct&version=v001&representation=usd"
NEVER_SEEN = "ayon+entity://demo_offline/assets/characters/hero?product=modelMain&version=v001&representation=abc"


def ayon_bin():
    path = os.environ.get("AYON_BIN")
    if not path or not os.path.exists(path):
        raise RuntimeError(f"AYON_BIN must name the built `ayon` binary (got {path!r})")
    return path


def clean_env():
    """The environment without AYON_* (ours are passed explicitly)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AYON_") or k == "AYON_BIN"}


class Testkit:
    """One `ayon testkit serve` process; `stop()` kills it, `start()` serves again on the same
    port with the same API key."""

    __test__ = False

    def __init__(self, latency_ms=0):
        self.latency_ms = latency_ms
        self.port = 0
        self.api_key = None
        self.proc = None
        self.start()

    def start(self):
        args = [
            ayon_bin(), "--json", "testkit", "serve", "--port", str(self.port), "--stdin-commands",
        ]
        if self.api_key:
            args += ["--api-key", self.api_key]
        if self.latency_ms:
            args += ["--latency-ms", str(self.latency_ms)]
        self.proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=clean_env(),
        )
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read()
            raise RuntimeError(f"testkit did not start: {err}")
        info = json.loads(line)
        self.url = info["url"]
        self.api_key = info["apiKey"]
        self.port = int(self.url.rsplit(":", 1)[1].rstrip("/"))

    def command(self, line):
        """One `--stdin-commands` command; its JSON answer."""
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def counters(self):
        """The server's request counters (`resolveRequests`: POST /api/resolve received…)."""
        return self.command("counters")

    def put_site_roots(self, project, roots, site_id=SITE_ID):
        """Overrides `project`'s roots for `site_id` (AYON's PUT /api/projects/{p}/roots/{site})."""
        req = urllib.request.Request(
            f"{self.url.rstrip('/')}/api/projects/{project}/roots/{site_id}",
            data=json.dumps(roots).encode(),
            method="PUT",
            headers={"x-api-key": self.api_key, "content-type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 204, resp.status

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def resolver_kwargs(self, cache_dir):
        return dict(
            server_url=self.url,
            api_key=self.api_key,
            site_id=SITE_ID,
            cache_dir=str(cache_dir),
            connect_timeout=0.5,
            request_timeout=3.0,
            reconnect_backoff=(0.1, 0.5),
        )


@pytest.fixture
def testkit():
    tk = Testkit()
    yield tk
    tk.stop()


@pytest.fixture
def slow_testkit():
    tk = Testkit(latency_ms=300)
    yield tk
    tk.stop()


def wait_until(what, limit, predicate):
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)
