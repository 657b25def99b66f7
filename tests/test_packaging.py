"""Packaging: pyproject.toml declares compatible ranges of packages the code uses; constraints.txt
pins the exact set that was tested (and that ``make`` installs with ``pip install -c``)."""

from __future__ import annotations

import ast
import functools
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
CONSTRAINTS = ROOT / "constraints.txt"

# Distribution name -> the imports that use it. box2d and pygame are imported by gymnasium's
# CarRacing (``gymnasium.envs.box2d``), which gymnasium only requires through an extra that
# would bring pygame-ce instead of pygame: we declare them ourselves and count that import.
IMPORTS: dict[str, tuple[str, ...]] = {
    "torch": ("torch",),
    "numpy": ("numpy",),
    "scipy": ("scipy",),
    "numba": ("numba",),
    "gymnasium": ("gymnasium",),
    "scikit-learn": ("sklearn",),
    "matplotlib": ("matplotlib",),
    "rich": ("rich",),
    "click": ("click",),
    "safetensors": ("safetensors",),
    "rapidfuzz": ("rapidfuzz",),
    "librosa": ("librosa",),
    "soxr": ("soxr",),
    "pillow": ("PIL",),
    "cma": ("cma",),
    "box2d": ("Box2D", "gymnasium.envs.box2d"),
    "pygame": ("pygame", "gymnasium.envs.box2d"),
    "mlxtend": ("mlxtend",),
    "pettingzoo": ("pettingzoo",),
    "ray": ("ray",),
}
# Extras whose packages the library imports (the others are tools: tests, linters, docs).
IMPORTED_EXTRAS = ("distributed",)


def _requirements(*extras: str) -> list[Requirement]:
    reqs = [Requirement(r) for r in PROJECT["dependencies"]]
    for extra in extras:
        reqs += [Requirement(r) for r in PROJECT["optional-dependencies"][extra]]
    return reqs


def _all_requirements() -> list[Requirement]:
    return _requirements(*PROJECT.get("optional-dependencies", {}))


@functools.cache
def _imported_modules() -> frozenset[str]:
    """Every module named by an import statement anywhere under src/ (nested imports too)."""
    names: set[str] = set()
    for path in (ROOT / "src").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return frozenset(names)


def _uses(imported: frozenset[str], module: str) -> bool:
    return any(name == module or name.startswith(module + ".") for name in imported)


@functools.cache
def _constraints() -> dict[str, str]:
    pins: dict[str, str] = {}
    for raw in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep and version and not any(c in version for c in "<>=!~,; "), (
            f"constraints.txt: {raw!r} is not an exact 'name==version' pin"
        )
        pins[canonicalize_name(name)] = version
    return pins


@pytest.mark.parametrize("req", _all_requirements(), ids=str)
def test_pyproject_declares_ranges_not_exact_pins(req: Requirement) -> None:
    assert not any(spec.operator in ("==", "===") for spec in req.specifier), (
        f"{req}: declare a compatible range; the exact version belongs in constraints.txt"
    )


@pytest.mark.parametrize("req", _requirements(*IMPORTED_EXTRAS), ids=str)
def test_every_declared_dependency_is_imported_in_src(req: Requirement) -> None:
    name = canonicalize_name(req.name)
    assert name in IMPORTS, f"{req.name}: add its import names to IMPORTS in this test"
    imported = _imported_modules()
    assert any(_uses(imported, module) for module in IMPORTS[name]), (
        f"{req.name} is declared but nothing under src/ imports {' or '.join(IMPORTS[name])}"
    )


def test_the_import_scan_sees_nested_and_from_imports() -> None:
    imported = _imported_modules()
    assert _uses(imported, "torch") and _uses(imported, "PIL")  # PIL only inside functions
    assert _uses(imported, "gymnasium.envs.box2d")
    assert not _uses(imported, "tensorflow")


@pytest.mark.parametrize("req", _all_requirements(), ids=str)
def test_constraints_pin_every_dependency_inside_its_declared_range(req: Requirement) -> None:
    pins = _constraints()
    name = canonicalize_name(req.name)
    assert name in pins, f"constraints.txt does not pin {req.name}: run 'make lock'"
    assert req.specifier.contains(Version(pins[name]), prereleases=True), (
        f"constraints.txt pins {req.name}=={pins[name]}, outside the declared {req.specifier}"
    )


def test_constraints_leave_out_the_ctc_anchor_installed_without_dependencies() -> None:
    pins = _constraints()
    assert "pyctcdecode" not in pins and "pygtrie" not in pins
    assert "rnnai" not in pins


def test_make_installs_with_the_constraints() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "CONSTRAINTS := constraints.txt" in makefile
    assert "pip install -q -c $(CONSTRAINTS) -e" in makefile
