"""The documentation cannot rot: its code runs, and the site builds with no warning.

Every ```python block in README.md and docs/**/*.md is run on its own, in a fresh
interpreter, with warnings as errors. A block that needs something the test run
cannot offer is skipped by putting, on the line right before its fence::

    <!-- docs-test: skip (the reason) -->

Blocks that start a server are written as ```console, never ```python.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>```+|~~~+)[ \t]*(?P<info>[^\n]*)$")
_SKIP = re.compile(r"<!--\s*docs-test:\s*skip\s*\((?P<reason>[^)]+)\)\s*-->")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    code: str
    skip: str | None

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def python_blocks(path: Path) -> list[Block]:
    """The fenced ```python blocks of a Markdown file, with any skip marker before them."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        indent, fence = opening.group("indent"), opening.group("fence")
        language = opening.group("info").split()[0] if opening.group("info").strip() else ""
        start = i
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].strip() != fence:
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
            i += 1
        i += 1  # the closing fence
        if language.lower() not in ("python", "py"):
            continue
        previous = next((ln for ln in reversed(lines[:start]) if ln.strip()), "")
        marker = _SKIP.search(previous)
        code = textwrap.dedent("\n".join(body)) + "\n"
        blocks.append(Block(path, start + 1, code, marker.group("reason") if marker else None))
    return blocks


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


ALL_BLOCKS = [block for path in documents() for block in python_blocks(path)]


def test_the_docs_have_code_to_run() -> None:
    files = {block.path.name for block in ALL_BLOCKS}
    assert {"README.md", "index.md"} <= files


@pytest.mark.parametrize("block", ALL_BLOCKS, ids=[block.where for block in ALL_BLOCKS])
def test_code_block_runs(block: Block, tmp_path: Path) -> None:
    if block.skip is not None:
        pytest.skip(block.skip)
    script = tmp_path / "block.py"
    script.write_text(block.code, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the examples import as examples.*
    result = subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{block.where} failed:\n{result.stderr}"


def test_the_extractor_sees_every_python_fence(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        textwrap.dedent(
            """\
            ```python
            a = 1
            ```

            ```console
            $ uvicorn app:app
            ```

            <!-- docs-test: skip (needs a database) -->
            ```python
            b = 2
            ```

            !!! note
                ```py
                c = 3
                ```
            """
        ),
        encoding="utf-8",
    )
    blocks = python_blocks(page)
    assert [(b.line, b.code, b.skip) for b in blocks] == [
        (1, "a = 1\n", None),
        (10, "b = 2\n", "needs a database"),
        (15, "c = 3\n", None),
    ]


def test_mkdocs_builds_strictly(tmp_path: Path) -> None:
    """A broken link, a missing page or a docstring mkdocstrings cannot read fails here."""
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "Sixty seconds with Flask" in home
    # The API reference is generated from the docstrings, roles and directives rendered.
    reference = (site / "reference" / "asgi" / "index.html").read_text(encoding="utf-8")
    assert "bodies stream through untouched" in reference
    for page in (site / "reference").rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        leftover = re.search(r":(class|meth|func|mod|data|attr|exc):`|\.\. [a-z-]+::", html)
        assert leftover is None, f"{page}: unrendered reStructuredText {leftover.group()!r}"
    # A reader's browser asks no third party for anything: no web fonts, no repository
    # widget (which calls api.github.com), no script, style, image or frame from elsewhere.
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "md-source" not in html, f"{page}: the repository widget calls api.github.com"
        assert "fonts.googleapis.com" not in html and "fonts.gstatic.com" not in html, page
        loads = _THIRD_PARTY_LOAD.search(html)
        assert loads is None, f"{page}: the browser would fetch {loads.group()!r}"


# An element the browser fetches by itself, from another host (links to follow are fine).
_THIRD_PARTY_LOAD = re.compile(
    r"<(?:script|img|iframe|source|video|audio)\b[^>]*\bsrc=\"(?:https?:)?//[^\"]+\""
    r"|<link\b(?=[^>]*\brel=\"(?:stylesheet|preconnect|preload|icon|modulepreload)\")"
    r"[^>]*\bhref=\"(?:https?:)?//[^\"]+\""
)


def test_each_example_has_a_readme_linked_from_the_docs() -> None:
    examples = sorted(p for p in (ROOT / "examples").iterdir() if (p / "app.py").exists())
    assert examples
    docs_text = "\n".join(p.read_text(encoding="utf-8") for p in DOCS.rglob("*.md"))
    for example in examples:
        assert (example / "README.md").is_file(), f"{example.name} has no README.md"
        assert f"examples/{example.name}" in docs_text, f"no docs page links {example.name}"
