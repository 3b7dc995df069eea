"""Pin and prewarm USD stages with one batched resolve per dependency level.

What AYON's USD add-on does to write pinning files for farm jobs, done with ``resolve_many``:
open the root layer, collect its composition asset dependencies
(``Sdf.Layer.GetCompositionAssetDependencies``) and its asset-valued attributes (``asset`` and
``asset[]`` defaults and time samples, variants included), resolve every AYON URI of that
breadth-first level in **one** call, open the resolved layers, repeat until no new URI appears.
Relative file paths are anchored to the layer that names them and opened in the same level (no
request needed); ``<UDIM>`` textures add the tiles found on disk. Every layer is opened once and
every URI asked for once, so cycles end. Errors are collected per identifier in the returned
report, never swallowed and never raised for one dependency.

Needs USD's Python bindings (``pxr``): ``pip install usd-core`` or a DCC's Python. ``pxr`` is
imported on the first call, so ``import ayon_offline.usd`` works without it.
"""

from __future__ import annotations

import glob as _glob
import os as _os
from collections import deque as _deque
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple, Union

from ayon_offline import Resolved as _Resolved
from ayon_offline import Resolver as _Resolver
from ayon_offline import is_ayon_uri as _is_ayon_uri

__all__ = ["DependencyError", "StageReport", "pin_stage", "prewarm_stage"]

_FORMAT_ARGS = ":SDF_FORMAT_ARGS:"
_UDIM = "<UDIM>"


def _sdf():
    try:
        from pxr import Sdf
    except ImportError as e:
        raise ImportError(
            "ayon_offline.usd needs USD's Python bindings (the `pxr` package): "
            "`pip install usd-core`, or run inside a DCC that ships USD"
        ) from e
    return Sdf


@dataclass
class DependencyError:
    """One dependency that could not be resolved or opened."""

    identifier: str
    """The asset path as the layer names it (an AYON URI or an anchored file path)."""
    layer: Optional[str]
    """The layer that names it (None for the root layer itself)."""
    kind: str
    """The resolver's error kind (``not_found``, ``offline``…) or ``layer`` (unreadable layer)."""
    message: str


@dataclass
class StageReport:
    """What ``pin_stage`` / ``prewarm_stage`` found, resolved and failed on."""

    root_layer: str
    levels: int = 0
    """Dependency levels that had AYON URIs to resolve: one ``resolve_many`` call each."""
    layers: List[str] = field(default_factory=list)
    """Layers opened, as file paths, in the order they were opened."""
    resolved: Dict[str, str] = field(default_factory=dict)
    """AYON URI (without SDF format arguments) -> file path."""
    files: List[str] = field(default_factory=list)
    """File-path dependencies (anchored), layers and other assets."""
    errors: List[DependencyError] = field(default_factory=list)
    out_file: Optional[str] = None
    """The pinning file written (``pin_stage`` only)."""
    pinned: int = 0
    """Entries written to the pinning file."""

    @property
    def ok(self) -> bool:
        """True when every dependency resolved and every layer opened."""
        return not self.errors

    @property
    def counts(self) -> Dict[str, int]:
        """The report as numbers (for logs and farm job output)."""
        return {
            "levels": self.levels,
            "layers": len(self.layers),
            "uris": len(self.resolved),
            "files": len(self.files),
            "errors": len(self.errors),
            "pinned": self.pinned,
        }


def _base(identifier: str) -> str:
    """The identifier without USD's ``:SDF_FORMAT_ARGS:`` suffix."""
    return identifier.split(_FORMAT_ARGS, 1)[0]


def _udim_tiles(path: str) -> List[str]:
    """The tiles on disk of a ``<UDIM>`` texture path (1001-9999), sorted."""
    head, _, tail = path.partition(_UDIM)
    return sorted(_glob.glob(_glob.escape(head) + "[1-9][0-9][0-9][0-9]" + _glob.escape(tail)))


def _asset_values(Sdf, layer) -> List[str]:
    """Authored asset paths of ``asset`` / ``asset[]`` attributes: defaults and time samples."""
    asset_types = (Sdf.ValueTypeNames.Asset, Sdf.ValueTypeNames.AssetArray)
    paths: List[str] = []

    def add(value) -> None:
        if value is None:
            return
        if isinstance(value, Sdf.AssetPath):
            paths.append(value.path)
        else:  # Sdf.AssetPathArray
            paths.extend(v.path for v in value)

    def visit(spec_path) -> None:
        if not spec_path.IsPropertyPath():
            return
        attr = layer.GetAttributeAtPath(spec_path)
        if not attr or attr.typeName not in asset_types:
            return
        if attr.HasDefaultValue():
            add(attr.default)
        for t in layer.ListTimeSamplesForPath(spec_path):
            add(layer.QueryTimeSample(spec_path, t))

    layer.Traverse(Sdf.Path.absoluteRootPath, visit)
    return [p for p in paths if p]


class _Walk:
    """The breadth-first walk shared by ``pin_stage`` and ``prewarm_stage``."""

    def __init__(self, Sdf, resolver, report: StageReport):
        self.Sdf = Sdf
        self.resolver = resolver
        self.report = report
        self.opened = set()  # layer paths opened (or tried)
        self.seen_files = set()
        self.seen_uris = set()  # base URIs asked for (this level or before)
        self.layer_uris = set()  # base URIs whose layer is (to be) opened
        # This level's URIs: base -> (as named, naming layer)
        self.uris: Dict[str, Tuple[str, Optional[str]]] = {}
        self.queue = _deque()  # (layer path to open, named by)

    def add(self, asset: str, layer, is_layer: bool) -> None:
        """One dependency named by ``layer`` (None: the root layer, named by the caller)."""
        named_by = layer.identifier if layer is not None else None
        if _is_ayon_uri(asset):
            base = _base(asset)
            if base not in self.seen_uris:
                self.seen_uris.add(base)
                self.uris[base] = (asset, named_by)
            if is_layer and base not in self.layer_uris:
                self.layer_uris.add(base)
                # Named before only as an attribute value and resolved then: open it now.
                if base in self.report.resolved and base not in self.uris:
                    self.queue.append((self.report.resolved[base], named_by))
            return
        path = layer.ComputeAbsolutePath(asset) if layer is not None else _os.path.abspath(asset)
        self.add_file(_base(path))
        if is_layer:
            self.queue.append((path, named_by))
        elif _UDIM in path:
            for tile in _udim_tiles(_base(path)):
                self.add_file(tile)

    def add_file(self, path: str) -> None:
        if path not in self.seen_files:
            self.seen_files.add(path)
            self.report.files.append(path)

    def open_level(self) -> None:
        """Opens every queued layer and, transitively, the file layers they name."""
        Sdf = self.Sdf
        while self.queue:
            path, named_by = self.queue.popleft()
            if path in self.opened:
                continue
            self.opened.add(path)
            try:
                layer = Sdf.Layer.FindOrOpen(path)
            except Exception as e:  # pxr raises Tf.ErrorException for unreadable layers
                layer, why = None, str(e).strip()
            else:
                why = "no such layer, or not a format USD reads"
            if layer is None:
                self.report.errors.append(DependencyError(path, named_by, "layer", why))
                continue
            self.report.layers.append(path)
            for dep in layer.GetCompositionAssetDependencies():
                if dep:
                    self.add(dep, layer, is_layer=True)
            for asset in _asset_values(Sdf, layer):
                self.add(asset, layer, is_layer=False)

    def resolve_level(self) -> None:
        """Resolves this level's URIs in one ``resolve_many`` call; queues their layers."""
        level, self.uris = self.uris, {}
        self.report.levels += 1
        answers = self.resolver.resolve_many([asset for asset, _ in level.values()])
        for (base, (asset, named_by)), answer in zip(level.items(), answers):
            if not isinstance(answer, _Resolved):
                self.report.errors.append(
                    DependencyError(asset, named_by, answer.kind, answer.message)
                )
                continue
            path = _base(answer.path)
            self.report.resolved[base] = path
            if base in self.layer_uris:
                self.queue.append((answer.path, named_by))
            elif _UDIM in path:
                for tile in _udim_tiles(path):
                    self.add_file(tile)

    def run(self, root_layer: str) -> None:
        self.add(root_layer, None, is_layer=True)
        while True:
            self.open_level()
            if not self.uris:
                return
            self.resolve_level()


def _walk(root_layer, resolver) -> StageReport:
    Sdf = _sdf()
    report = StageReport(root_layer=_os.fspath(root_layer))
    _Walk(Sdf, resolver, report).run(report.root_layer)
    return report


def prewarm_stage(root_layer, resolver: Optional[_Resolver] = None) -> StageReport:
    """Resolves every AYON URI the stage of ``root_layer`` (a file path or an AYON URI) depends
    on, one ``resolve_many`` call per dependency level, so that the resolver's caches answer the
    stage's next open at once (also offline). ``resolver`` defaults to ``Resolver.from_env()``.
    Returns the report (``report.counts``); dependency errors are in ``report.errors``."""
    return _walk(root_layer, resolver if resolver is not None else _Resolver.from_env())


def pin_stage(
    root_layer,
    out_file,
    resolver: Optional[_Resolver] = None,
    *,
    roots: Union[str, Dict[str, str], None] = None,
) -> StageReport:
    """Writes an AYON pinning file for the stage of ``root_layer`` (a file path or an AYON URI)
    to ``out_file``, atomically: every AYON URI of the stage's dependency closure and every file
    dependency, rootless with the site roots of the URIs' projects, and the entry scene
    (``ayon_pinning_data_entry_scene``: ``root_layer`` made absolute, or the URI as given, format
    arguments removed; open exactly that on the farm). A farm
    worker then resolves the whole stage from the file alone (pinning-only mode, no server).
    Dependencies that failed are left out and listed in ``report.errors``; the rest is pinned.
    ``roots`` (``name=path,…`` or a dict) replaces the site roots asked of the server, e.g. for a
    resolver that has no server. Raises ``ConfigError`` when the file cannot be written, and the
    resolver's error when the site roots of a project are unknown (never fetched, offline).
    """
    resolver = resolver if resolver is not None else _Resolver.from_env()
    report = _walk(root_layer, resolver)
    entries = dict(report.resolved)
    failed = {e.identifier for e in report.errors}
    for path in report.files:
        if path not in failed:
            entries.setdefault(path, path)
    root = _base(report.root_layer)
    entry_scene = root if _is_ayon_uri(root) else _os.path.abspath(root)
    report.out_file = _os.fspath(out_file)
    _os.makedirs(_os.path.dirname(_os.path.abspath(report.out_file)), exist_ok=True)
    report.pinned = resolver.write_pinning_file(report.out_file, entries, entry_scene, roots)
    return report
