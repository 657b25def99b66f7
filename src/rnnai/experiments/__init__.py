"""Paper reproductions: one module per experiment, plus the registry and the runner.

Every module in this package is imported by `load_all` (hidden, ``_``-prefixed modules too), so an
experiment only has to be defined in a module here and decorated with `register`. The library
(``rnnai.nn``, ``rnnai.tasks``, ...) never imports this package.

Examples:
    >>> from rnnai.experiments import SCALES, check_scale
    >>> SCALES
    ('smoke', 'quick', 'paper')
    >>> check_scale("quick")
    'quick'
"""

from __future__ import annotations

import importlib
import pkgutil

from rnnai.experiments.base import (
    SCALES,
    Experiment,
    Outcome,
    PaperClaim,
    RunContext,
    all_experiments,
    check_scale,
    get_experiment,
    register,
    unregister,
)

__all__ = [
    "SCALES",
    "Experiment",
    "Outcome",
    "PaperClaim",
    "RunContext",
    "all_experiments",
    "check_scale",
    "get_experiment",
    "load_all",
    "register",
    "unregister",
]

_loaded = False


def load_all() -> None:
    """Import every module of ``rnnai.experiments`` so that their experiments register.

    Import errors propagate: a broken experiment module is a bug to fix, not to hide.
    """
    global _loaded
    if _loaded:
        return
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        importlib.import_module(f"{__name__}.{module.name}")
    _loaded = True
