"""sphinx-gallery hooks for dlcore's docs: the examples' arguments and a PNG scraper.

The examples save and close their figures (``--out DIR``), so the scraper
shows the PNG files each one wrote instead of open matplotlib figures.
``DLCORE_DOCS_QUICK=1`` runs them with ``--quick`` (what the test suite does).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

FIGURES = Path(os.environ.get("DLCORE_DOCS_FIGURES") or tempfile.mkdtemp(prefix="dlcore-gallery-"))


def quick() -> bool:
    return os.environ.get("DLCORE_DOCS_QUICK", "") not in ("", "0")


def example_args(gallery_conf: dict[str, Any], script_vars: dict[str, Any]) -> list[str]:
    """``--out`` a folder per example, plus ``--quick`` in quick mode."""
    out = FIGURES / Path(script_vars["src_file"]).stem
    return ["--out", str(out), *(["--quick"] if quick() else [])]


def png_scraper(block: Any, block_vars: dict[str, Any], gallery_conf: dict[str, Any]) -> str:
    """Copy the PNGs the example wrote to sphinx-gallery's image paths and show them."""
    from sphinx_gallery.scrapers import figure_rst

    folder = FIGURES / Path(block_vars["src_file"]).stem
    written = sorted(folder.glob("*.png"), key=lambda p: (p.stat().st_mtime_ns, p.name))
    paths = []
    for png, target in zip(written, block_vars["image_path_iterator"], strict=False):
        shutil.copyfile(png, target)
        paths.append(target)
    return figure_rst(paths, gallery_conf["src_dir"])
