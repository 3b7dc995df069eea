"""Type stubs of ``ayon_offline.usd`` (checked against the module in CI)."""

from os import PathLike
from typing import Optional, Union

from ayon_offline import Resolver

_StrPath = Union[str, PathLike[str]]

class DependencyError:
    """One dependency that could not be resolved or opened."""

    identifier: str
    layer: Optional[str]
    kind: str
    message: str
    def __init__(self, identifier: str, layer: Optional[str], kind: str, message: str) -> None: ...

class StageReport:
    """What ``pin_stage`` / ``prewarm_stage`` found, resolved and failed on."""

    root_layer: str
    levels: int
    layers: list[str]
    resolved: dict[str, str]
    files: list[str]
    errors: list[DependencyError]
    out_file: Optional[str]
    pinned: int
    @property
    def ok(self) -> bool: ...
    @property
    def counts(self) -> dict[str, int]: ...

def prewarm_stage(root_layer: _StrPath, resolver: Optional[Resolver] = None) -> StageReport: ...
def pin_stage(
    root_layer: _StrPath,
    out_file: _StrPath,
    resolver: Optional[Resolver] = None,
    *,
    roots: Union[str, dict[str, str], None] = None,
) -> StageReport: ...
