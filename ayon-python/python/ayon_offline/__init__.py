"""Resolve AYON URIs to file paths, online and offline (the Rust resolver core).

Everything is defined by the native extension ``ayon_offline._native`` and re-exported here;
``ayon_offline.usd`` (pin and prewarm USD stages; needs ``pxr``) is imported on demand.
"""

from ._native import *  # noqa: F401,F403 (the native module is the public API)
from ._native import __version__  # noqa: F401
