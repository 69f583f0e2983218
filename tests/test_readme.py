"""The README's Python snippets run as written (each block in a fresh namespace).

A block preceded by ``<!-- readme-test: skip (reason) -->`` is left out, e.g.
one that downloads the full training set; the reason is part of the README.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
_BLOCK = re.compile(r"(<!-- readme-test: skip[^>]*-->\s*)?```python\n(.*?)```", re.S)


def _blocks() -> list[tuple[int, str]]:
    text = README.read_text(encoding="utf-8")
    out = []
    for m in _BLOCK.finditer(text):
        if m.group(1):
            continue
        out.append((text[: m.start()].count("\n") + 1, m.group(2)))
    return out


def test_readme_has_python_snippets():
    assert _blocks(), "README has no ```python blocks"


@pytest.mark.parametrize(("line", "code"), _blocks(), ids=[f"line{n}" for n, _ in _blocks()])
def test_readme_snippet_runs(line, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    exec(compile(code, f"README.md:{line}", "exec"), {"__name__": "__readme__"})
