"""``njit`` with numba's on-disk cache in a per-user folder, never inside the installed package.

Numba's ``@njit(cache=True)`` stores compiled kernels as pickles and loads them back with
``pickle``; by default it puts them in the ``__pycache__`` folder next to the module, that is,
inside the installed package (and loads whatever it finds there). Every rnnai kernel module
imports `njit` from here instead of from numba. The first call sets ``numba.config.CACHE_DIR``
to `numba_cache_dir` before the decorator runs, which is when numba chooses where a function's
cache lives (numba's ``UserProvidedCacheLocator``, consulted before the in-tree one):

* ``NUMBA_CACHE_DIR`` set by the user: numba's own setting is kept;
* otherwise the platform's per-user cache folder: ``$XDG_CACHE_HOME/rnnai/numba`` (default
  ``~/.cache/rnnai/numba``) on Linux, ``~/Library/Caches/rnnai/numba`` on macOS,
  ``%LOCALAPPDATA%\\rnnai\\numba`` on Windows.

Why not set ``NUMBA_CACHE_DIR`` in ``os.environ`` at import: that changes the environment of the
whole process and of every process it starts, for a setting only rnnai's kernels need, and it
must happen before numba is first imported by anyone. Setting numba's config object when a kernel
is defined needs neither. If the folder cannot be created, kernels compile without an on-disk
cache (numba would otherwise fall back to the package's ``__pycache__``).

Examples:
    >>> from rnnai.runtime.jit import numba_cache_dir
    >>> numba_cache_dir(environ={"NUMBA_CACHE_DIR": "/data/numba"}).as_posix()
    '/data/numba'
    >>> numba_cache_dir(environ={"XDG_CACHE_HOME": "/home/ada/.cache"}, platform="linux").as_posix()
    '/home/ada/.cache/rnnai/numba'
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["configure_numba_cache", "njit", "numba_cache_dir"]


def numba_cache_dir(environ: Mapping[str, str] | None = None, platform: str | None = None) -> Path:
    """The folder of numba's on-disk cache for rnnai's kernels.

    Args:
        environ: The environment to read (default: ``os.environ``).
        platform: ``sys.platform`` to assume (default: this one).

    Returns:
        ``NUMBA_CACHE_DIR`` if set, else ``<per-user cache folder>/rnnai/numba``.
    """
    env = os.environ if environ is None else environ
    plat = sys.platform if platform is None else platform
    if env.get("NUMBA_CACHE_DIR"):
        return Path(env["NUMBA_CACHE_DIR"])
    if plat.startswith("win"):
        base = Path(env.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif plat == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "rnnai" / "numba"


_configured: bool | None = None  # None: not yet tried; then whether the cache folder is usable


def configure_numba_cache() -> bool:
    """Point numba's on-disk cache at `numba_cache_dir` (once per process).

    Returns:
        Whether the folder exists or could be created (if not, `njit` turns ``cache`` off).
    """
    global _configured
    if _configured is None:
        from numba.core import config

        folder = numba_cache_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _configured = os.access(folder, os.W_OK)
        except OSError:
            _configured = False
        if _configured and not os.environ.get("NUMBA_CACHE_DIR"):
            config.CACHE_DIR = str(folder)  # type: ignore[attr-defined]  # set from env at import
    return _configured


def njit(*args: Any, **kwargs: Any) -> Any:
    """``numba.njit`` whose ``cache=True`` writes to `numba_cache_dir`, not the package.

    Args:
        *args: As for ``numba.njit`` (a function, or signatures).
        **kwargs: As for ``numba.njit``; ``cache=True`` is dropped if the cache folder cannot
            be created.

    Returns:
        What ``numba.njit`` returns: a dispatcher, or a decorator when called with options only.
    """
    import numba

    if kwargs.get("cache") and not configure_numba_cache():
        kwargs["cache"] = False
    jit: Callable[..., Any] = numba.njit
    return jit(*args, **kwargs)
