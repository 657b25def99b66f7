"""The documentation stands on its own: runnable examples in every public module, no references
to material outside the repository, and an API reference page for every public package.

A public module is a ``.py`` file under ``src/rnnai`` none of whose path components starts with
``_``, plus the ``__init__.py`` of every public package. The doctests run with
``doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE`` and whatever ``OMP_NUM_THREADS`` the
environment sets (the Makefile sets 1): examples print robustly (rounded numbers, ``...``), so
they do not depend on the platform's float formatting.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = SRC / "rnnai"


def _is_public(path: Path) -> bool:
    parts = path.relative_to(SRC).parts
    if path.name == "__init__.py":
        parts = parts[:-1]
    return not any(part.startswith("_") for part in parts)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


PUBLIC_MODULES: list[Path] = sorted(p for p in PACKAGE.rglob("*.py") if _is_public(p))
PUBLIC_PACKAGES: list[str] = sorted(
    p.parent.name
    for p in PACKAGE.glob("*/__init__.py")
    if not p.parent.name.startswith("_")
)
ALL_SOURCES: list[Path] = sorted(PACKAGE.rglob("*.py"))
_IDS = [_module_name(p) for p in PUBLIC_MODULES]

# A Google-style "Examples:" section header on a line of its own, followed by a doctest prompt.
_EXAMPLES = re.compile(r"^[ \t]*Examples:[ \t]*\n(?:.*\n)*?[ \t]*>>> ", re.MULTILINE)

# Phrases that point a reader at material they do not have. "PAPERS.md" is allowed only as
# "docs/PAPERS.md", the copy inside the repository.
_FORBIDDEN = re.compile(
    r"task brief|\bthe brief\b|\bthe issue\b|\bthis issue\b|(?<!docs/)PAPERS\.md|\.\./shared",
    re.IGNORECASE,
)


def _module_docstring(path: Path) -> str | None:
    return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")), clean=True)


def test_the_walk_finds_the_public_modules_and_skips_the_private_ones() -> None:
    names = set(_IDS)
    assert {"rnnai", "rnnai.nn", "rnnai.nn.lstm", "rnnai.train.hooks"} <= names
    assert not any(part.startswith("_") for name in names for part in name.split("."))
    assert "rnnai.ctc._kernels" not in names and "rnnai.__main__" not in names
    assert {"nn", "train", "ctc", "runtime"} <= set(PUBLIC_PACKAGES)


def test_the_examples_pattern_needs_a_section_header_and_a_prompt() -> None:
    assert _EXAMPLES.search("Title.\n\nExamples:\n    >>> 1 + 1\n    2\n")
    assert not _EXAMPLES.search("Title.\n\nExamples:\n    1 + 1\n")
    assert not _EXAMPLES.search("Title.\n\n    >>> 1 + 1\n    2\n")


@pytest.mark.parametrize("path", PUBLIC_MODULES, ids=_IDS)
def test_public_module_docstring_has_an_examples_section_with_doctests(path: Path) -> None:
    doc = _module_docstring(path)
    assert doc, f"{path.relative_to(ROOT)} has no module docstring"
    assert _EXAMPLES.search(doc + "\n"), (
        f"{path.relative_to(ROOT)}: the module docstring needs an 'Examples:' section "
        "with '>>>' lines"
    )


@pytest.mark.parametrize("path", PUBLIC_MODULES, ids=_IDS)
def test_public_module_examples_pass(path: Path) -> None:
    module = importlib.import_module(_module_name(path))
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = [t for t in finder.find(module) if t.examples]
    if not tests:
        pytest.fail(f"{path.relative_to(ROOT)} has no doctest examples")
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    out = io.StringIO()
    for test in tests:
        runner.run(test, out=out.write)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, out.getvalue()


def _prose(path: Path) -> list[tuple[int, str]]:
    """Comments and string literals (docstrings included) of a source file, with line numbers."""
    kinds = {tokenize.COMMENT, tokenize.STRING}
    fstring_middle = getattr(tokenize, "FSTRING_MIDDLE", None)
    if fstring_middle is not None:
        kinds.add(fstring_middle)
    with path.open("rb") as f:
        return [(t.start[0], t.string) for t in tokenize.tokenize(f.readline) if t.type in kinds]


def test_the_forbidden_pattern_allows_only_the_in_repository_papers_file() -> None:
    assert _FORBIDDEN.search("see the task brief")
    assert _FORBIDDEN.search("as The Issue says")
    assert _FORBIDDEN.search("in PAPERS.md")
    assert _FORBIDDEN.search("see ../shared/DESIGN.md")
    assert not _FORBIDDEN.search("see docs/PAPERS.md")
    assert not _FORBIDDEN.search("briefly, the issuer")


@pytest.mark.parametrize(
    "path", ALL_SOURCES, ids=[str(p.relative_to(SRC)) for p in ALL_SOURCES]
)
def test_no_docstring_or_comment_points_outside_the_repository(path: Path) -> None:
    hits = [
        f"{path.relative_to(ROOT)}:{line + text[: m.start()].count(chr(10))}: {m.group(0)!r}"
        for line, text in _prose(path)
        for m in _FORBIDDEN.finditer(text)
    ]
    assert not hits, "docstrings and comments must stand on their own:\n" + "\n".join(hits)


def test_every_public_package_has_an_api_page_in_the_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for name in PUBLIC_PACKAGES:
        page = ROOT / "docs" / "api" / f"{name}.md"
        assert page.is_file(), f"docs/api/{name}.md is missing"
        assert f"::: rnnai.{name}\n" in page.read_text(encoding="utf-8")
        assert f"api/{name}.md" in nav, f"mkdocs.yml's nav lacks api/{name}.md"


def test_the_api_reference_shows_every_submodule() -> None:
    """Each package page renders its submodules, so new modules need no new page."""
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert re.search(r"^\s+show_submodules: true$", config, re.MULTILINE)
    assert re.search(r"^\s+docstring_style: google$", config, re.MULTILINE)


def test_make_test_builds_the_docs_strictly_and_runs_the_checkers() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    docs = re.search(r"^\t.*mkdocs build.*$", makefile, re.MULTILINE)
    assert docs and "--strict" in docs.group(0)
    assert "--quiet" not in docs.group(0) and " -q" not in docs.group(0)  # hides the warnings
    test = re.search(r"^test:(.*)$", makefile, re.MULTILINE)
    assert test and {"lint", "typecheck", "docs"} <= set(test.group(1).split())
    assert "ruff check src tests" in makefile and "/mypy" in makefile
