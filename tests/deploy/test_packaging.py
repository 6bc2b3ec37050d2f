"""`pip install sdgcities` is the investor's install: the verifier and the `verify` / `trust`
commands, without the node's stack; `sdgcities[node]` adds the node. Built as a user gets it: the
wheel, installed into a fresh virtual environment with its dependencies from the package index."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import clean_environment
from tests.cli.federation import TestFederation

from .node_extra import node_extra_distributions

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[2]
SOURCE_FILES = ("pyproject.toml", "README.md", "LICENSE")
SOURCE_FOLDERS = ("src", "credentials", "federation", "node", "cli")
BUILD_LEFTOVERS = shutil.ignore_patterns("__pycache__", "*.egg-info")
# Distributions of the node's stack: none of them may come with the base install. (pydantic is
# the node's too, but Typer itself requires it.)
NODE_DISTRIBUTIONS = tuple(
    name for name in (*node_extra_distributions(), "sqlalchemy", "starlette") if name != "pydantic"
)


def _run(*args: str | Path, **options: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        **options,  # type: ignore[call-overload]
    )


@pytest.fixture(scope="module")
def base_install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with `pip install <the wheel>`; its bin folder."""
    root = tmp_path_factory.mktemp("packaging")
    # Built from a copy of what the distribution holds: a build in the working tree writes
    # build/ there, which two test workers would share.
    source = root / "source"
    source.mkdir()
    for name in SOURCE_FILES:
        shutil.copy2(ROOT / name, source / name)
    for name in SOURCE_FOLDERS:
        shutil.copytree(ROOT / name, source / name, symlinks=True, ignore=BUILD_LEFTOVERS)
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", root / "dist", source)
    assert built.returncode == 0, built.stderr
    [wheel] = (root / "dist").glob("sdgcities-*.whl")
    created = _run(sys.executable, "-m", "venv", root / "venv")
    assert created.returncode == 0, created.stderr
    bin_dir = root / "venv" / "bin"
    installed = _run(bin_dir / "python", "-m", "pip", "install", "--quiet", wheel)
    assert installed.returncode == 0, installed.stderr
    return bin_dir


def test_the_base_install_has_none_of_the_node_stack(base_install: Path) -> None:
    listed = _run(base_install / "python", "-m", "pip", "list", "--format=json")
    names = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert "sdgcities" in names
    assert names.isdisjoint(NODE_DISTRIBUTIONS), names & set(NODE_DISTRIBUTIONS)


def test_the_base_install_verifies_a_certificate_offline(
    base_install: Path, tmp_path: Path
) -> None:
    federation = TestFederation()
    bundle = federation.write_bundle(tmp_path / "bundle")
    token, _ = federation.certificate()
    home = tmp_path / "home"
    home.mkdir()
    env = clean_environment(home) | {"SDGCITIES_ROOT_THUMBPRINT": federation.pin}
    answer = _run(
        base_install / "sdgcities",
        "verify",
        "--offline",
        "--bundle",
        bundle,
        "--json",
        token,
        env=env,
    )
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["valid"] is True
    shown = _run(base_install / "sdgcities", "trust", "show", "--bundle", bundle, env=env)
    assert shown.returncode == 0, shown.stderr


@pytest.mark.parametrize(
    "command",
    [
        ("node", "init", "--data-dir", "data"),
        ("node", "serve", "--data-dir", "data"),
        ("demo", "--exit"),
    ],
)
def test_a_node_command_names_the_extra_to_install(
    base_install: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    answer = _run(base_install / "sdgcities", *command, env=clean_environment(home), cwd=tmp_path)
    assert answer.returncode == 2, (answer.stdout, answer.stderr)
    [line] = answer.stderr.splitlines()
    assert "pip install 'sdgcities[node]'" in line
    assert not (tmp_path / "data").exists()
