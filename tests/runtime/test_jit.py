"""numba's on-disk cache goes to a per-user folder (or NUMBA_CACHE_DIR), never into the package."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import rnnai
from rnnai.runtime.jit import numba_cache_dir

KERNEL = """
from rnnai.runtime.jit import njit


@njit(cache=True)
def add_one(x):
    return x + 1
"""


def _compile_in_subprocess(module_dir: Path, env: dict[str, str]) -> None:
    code = "import kernel_mod; assert kernel_mod.add_one(41) == 42"
    path = os.pathsep.join([str(module_dir), *filter(None, [os.environ.get("PYTHONPATH")])])
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    env["HOME"] = str(tmp_path / "home")
    return env


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG cache folder is Linux's")
def test_cache_index_lands_in_the_per_user_cache_folder_not_next_to_the_module(
    tmp_path: Path,
) -> None:
    module_dir = tmp_path / "mod"
    module_dir.mkdir()
    (module_dir / "kernel_mod.py").write_text(textwrap.dedent(KERNEL))
    _compile_in_subprocess(module_dir, _clean_env(tmp_path))
    cache = tmp_path / "xdg" / "rnnai" / "numba"
    assert list(cache.rglob("*add_one*.nbi")) and list(cache.rglob("*add_one*.nbc"))
    assert not list(module_dir.rglob("*.nbi")) and not list(module_dir.rglob("*.nbc"))


def test_a_user_set_numba_cache_dir_is_kept(tmp_path: Path) -> None:
    module_dir = tmp_path / "mod"
    module_dir.mkdir()
    (module_dir / "kernel_mod.py").write_text(textwrap.dedent(KERNEL))
    env = {**_clean_env(tmp_path), "NUMBA_CACHE_DIR": str(tmp_path / "mine")}
    _compile_in_subprocess(module_dir, env)
    assert list((tmp_path / "mine").rglob("*add_one*.nbi"))
    assert not list((tmp_path / "xdg").rglob("*.nbi"))
    assert not list(module_dir.rglob("*.nbi"))


def test_an_uncreatable_cache_folder_turns_the_disk_cache_off(tmp_path: Path) -> None:
    module_dir = tmp_path / "mod"
    module_dir.mkdir()
    (module_dir / "kernel_mod.py").write_text(textwrap.dedent(KERNEL))
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    env = {**_clean_env(tmp_path), "XDG_CACHE_HOME": str(blocker)}
    env["HOME"] = str(blocker)
    _compile_in_subprocess(module_dir, env)
    assert not list(module_dir.rglob("*.nbi"))  # numba did not fall back to __pycache__


def test_cache_folder_by_platform() -> None:
    home = Path.home()
    assert numba_cache_dir({}, "linux") == home / ".cache" / "rnnai" / "numba"
    assert numba_cache_dir({"XDG_CACHE_HOME": "/x"}, "linux") == Path("/x/rnnai/numba")
    assert numba_cache_dir({}, "darwin") == home / "Library" / "Caches" / "rnnai" / "numba"
    assert numba_cache_dir({"LOCALAPPDATA": "/la"}, "win32") == Path("/la/rnnai/numba")
    assert numba_cache_dir({"NUMBA_CACHE_DIR": "/n"}, "linux") == Path("/n")


def _modules_importing_numba_njit_for_a_cache() -> list[str]:
    package = Path(rnnai.__file__).parent
    offenders = []
    for path in sorted(package.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "cache=True" not in text:
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and node.module == "numba":
                if any(alias.name == "njit" for alias in node.names):
                    offenders.append(str(path.relative_to(package)))
    return offenders


def test_every_cached_kernel_module_uses_rnnai_njit() -> None:
    assert _modules_importing_numba_njit_for_a_cache() == []
