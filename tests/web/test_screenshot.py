"""The README's screenshot helper: a picture of a node's page, and its refusals."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from ..integration.harness import Node
from .screenshot import VIEWPORT, Shot, main, take

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.slow
def test_take_saves_the_page_as_a_png(
    chromium: Browser, national_node: Node, tmp_path: Path
) -> None:
    shot = Shot(f"{national_node.url}/docs", tmp_path / "images" / "docs.png", ready=".opblock")
    saved = take(chromium, shot)
    assert saved == shot.path
    assert _png_size(saved) == (VIEWPORT["width"], VIEWPORT["height"])
    assert saved.stat().st_size > 20_000  # a rendered page, not a blank one


@pytest.mark.slow
def test_take_refuses_a_page_that_logs_an_error(
    chromium: Browser, national_node: Node, tmp_path: Path
) -> None:
    shot = Shot(f"{national_node.url}/no-such-page", tmp_path / "missing.png")
    with pytest.raises(AssertionError, match=r"console error: .*404"):
        take(chromium, shot)
    assert not shot.path.exists()


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--demo", "http://127.0.0.1:1/docs=docs.png"],
        ["http://127.0.0.1:1/docs"],
        ["=docs.png"],
    ],
)
def test_main_refuses_bad_arguments(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err
