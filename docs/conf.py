"""Sphinx configuration: the API reference from dlcore's numpydoc docstrings and a gallery
of the chapter examples (sphinx-gallery runs each ``examples/ch*.py`` and shows what it
prints and the figures it writes; see ``gallery_hooks.py``).

Build (warnings are errors)::

    python -m sphinx -W -b html docs docs/_build/html

``DLCORE_DOCS_QUICK=1`` runs the examples with ``--quick`` (what the test suite does);
``DLCORE_DOCS_RERUN=1`` runs them even where sphinx-gallery has their output cached.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))  # gallery_hooks
sys.path.insert(0, str(ROOT / "examples"))  # the examples import their _common module

import dlcore  # noqa: E402

project = "dlcore"
author = "dlcore developers"
copyright = "dlcore developers"
release = version = dlcore.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
exclude_patterns = ["_build"]
html_theme = "alabaster"
autodoc_default_options = {"members": True}
numpydoc_show_class_members = False

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "gallery",
    "filename_pattern": r"/ch\d\d_",
    "ignore_pattern": r"_common\.py",
    "reset_argv": "gallery_hooks.example_args",
    "image_scrapers": ("gallery_hooks.png_scraper",),
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "write_computation_times": False,
    "show_memory": False,
    "run_stale_examples": os.environ.get("DLCORE_DOCS_RERUN", "") not in ("", "0"),
}
