"""Shared command line, printing and plotting helpers for the example scripts.

Every example takes the same options::

    --backend NAME   numpy, numba, array_api_strict, cupy, ... (default: $DLCORE_BACKEND or numpy)
    --out DIR        where the PNG figures go (default: ./figures)
    --quick          small sizes (seconds instead of minutes; what the test suite runs)
    --lang ko        Korean titles, axes and printed lines (default: en)

Figures need matplotlib (``pip install "dlcore[plot]"``). It is imported only
when the first figure is drawn, with the non-interactive Agg backend, so the
scripts run on servers and in CI. Without matplotlib the examples still print
every number and say how to get the figures. Korean figures need a font with
Hangul: the ``ko`` extra (``pip install "dlcore[plot,ko]"``) installs
koreanize-matplotlib, whose NanumGothic is used; without it the figures keep
English labels (so no glyph is ever missing) and say how to get Hangul.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

import dlcore as dl

PLOT_HINT = 'pip install "dlcore[plot]"'
KO_FONT_HINT = 'pip install "dlcore[ko]"'
LANGS = ("en", "ko")


def parse_args(
    description: str | None,
    argv: list[str] | None,
    *,
    extra: Any = None,
) -> argparse.Namespace:
    """Parse the common options (plus those ``extra(parser)`` adds).

    An unknown or unusable backend is reported as a usage error (exit code 2)
    with dlcore's message, which names the valid backends or the pip command.
    """
    default_backend = os.environ.get("DLCORE_BACKEND", "").strip().lower() or "numpy"
    parser = argparse.ArgumentParser(
        description=(description or "").strip().splitlines()[0] if description else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--backend",
        default=default_backend,
        metavar="NAME",
        help="array backend: numpy, numba, array_api_strict, cupy, torch, jax, ...",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("figures"), metavar="DIR", help="directory for PNGs"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a fast check")
    parser.add_argument(
        "--lang", choices=LANGS, default="en", help="language of titles, axes and printed lines"
    )
    if extra is not None:
        extra(parser)
    args = parser.parse_args(argv)
    try:
        dl.get_backend(args.backend)
    except (ValueError, dl.BackendError) as exc:
        parser.error(str(exc))
    return args


def positive_int(text: str) -> int:
    """An ``argparse`` type: a positive integer, with a clear message otherwise."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        msg = f"expected a positive integer, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


class Session:
    """What an example needs while it runs: the backend, the figure directory, printing."""

    def __init__(self, backend: dl.Backend, out: Path, quick: bool, lang: str = "en") -> None:
        self.backend = backend
        self.xp = backend.xp
        self.out = out
        self.quick = quick
        self.lang = lang
        self.fig_lang = lang  # "en" when no Hangul font is installed
        self._plt: Any = None
        self._plot_checked = False
        self.figures: list[Path] = []

    # -- arrays -------------------------------------------------------------
    def array(self, obj: Any, dtype: Any = None) -> Any:
        """Host data -> an array on the example's backend (``dl.asarray``)."""
        return dl.asarray(obj, dtype=dtype)

    # -- language -----------------------------------------------------------
    def t(self, en: str, ko: str) -> str:
        """The printed text in the session's language."""
        return ko if self.lang == "ko" else en

    def tf(self, en: str, ko: str) -> str:
        """Figure text (titles, axes, legends) in the session's language, if a font has it."""
        if self.plt is None:
            return en
        return ko if self.fig_lang == "ko" else en

    # -- printing -----------------------------------------------------------
    @staticmethod
    def fmt(value: Any) -> str:
        """Format like the book's ``print``: ``str`` of a NumPy array, ``repr`` of a scalar."""
        if isinstance(value, str):
            return value
        arr = np.asarray(dl.to_numpy(value))
        if arr.ndim == 0:
            return repr(arr.item())
        return str(arr)

    def show(self, label: str, value: Any) -> None:
        """Print ``label: value`` (arrays as NumPy prints them, on one line if short)."""
        text = self.fmt(value)
        sep = "\n" if "\n" in text else " "
        print(f"{label}:{sep}{text}")

    @staticmethod
    def section(title: str) -> None:
        """Print a section heading."""
        print(f"\n== {title} ==")

    # -- figures ------------------------------------------------------------
    @property
    def plt(self) -> Any:
        """``matplotlib.pyplot`` with the Agg backend, or ``None`` when matplotlib is missing."""
        if not self._plot_checked:
            self._plot_checked = True
            try:
                import matplotlib
            except ImportError:
                print(
                    self.t(
                        f"(matplotlib is not installed: figures are skipped; {PLOT_HINT} to get "
                        "them)",
                        f"(matplotlib이 없어 그림은 건너뜀; {PLOT_HINT}로 설치)",
                    )
                )
                self._plt = None
            else:
                matplotlib.use("Agg")
                import matplotlib.pyplot as plt

                self._plt = plt
                if self.lang == "ko" and not use_korean_font(matplotlib):
                    self.fig_lang = "en"
                    print(
                        f"(no Hangul font: figures keep English labels; {KO_FONT_HINT})\n"
                        f"(한글 글꼴 없음: 그림은 영어로; {KO_FONT_HINT})"
                    )
        return self._plt

    def save(self, fig: Any, name: str) -> Path:
        """Save ``fig`` as ``<out>/<name>`` (PNG), close it and print the path."""
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / name
        fig.savefig(path, dpi=110, bbox_inches="tight")
        self.plt.close(fig)
        self.figures.append(path)
        print(f"{self.t('figure', '그림')}: {path}")
        return path


def use_korean_font(matplotlib: Any) -> bool:
    """Make matplotlib draw Hangul with koreanize-matplotlib's NanumGothic; False if missing.

    The font file is registered directly: importing ``koreanize_matplotlib``
    (0.1.1) would call ``distutils.LooseVersion``, deprecated and warning.
    """
    import importlib.util

    spec = importlib.util.find_spec("koreanize_matplotlib")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    fonts = [Path(f) / "fonts" / "NanumGothic.ttf" for f in folders]
    fonts = [f for f in fonts if f.is_file()]
    if not fonts:
        return False
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(fonts[0]))
    name = font_manager.FontProperties(fname=str(fonts[0])).get_name()
    # DejaVu Sans first (Latin, symbols, the minus sign and mathtext's \mathdefault, e.g. the
    # 10^-8 of a log axis), NanumGothic as the per-glyph fallback for Hangul.
    matplotlib.rcParams["font.family"] = ["DejaVu Sans", name]
    return True


@contextmanager
def session(args: argparse.Namespace, title: str, title_ko: str | None = None) -> Iterator[Session]:
    """Activate ``args.backend`` (``dl.use_backend``) and print a header line."""
    lang = getattr(args, "lang", "en")
    with dl.use_backend(args.backend) as backend:
        shown = title_ko if lang == "ko" and title_ko else title
        device = backend.device or ("기본" if lang == "ko" else "default")
        label = ("백엔드", "장치") if lang == "ko" else ("backend", "device")
        print(f"# {shown} | {label[0]}: {backend.name} | {label[1]}: {device}")
        yield Session(backend, args.out, args.quick, lang)
