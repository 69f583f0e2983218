"""The results of ``dlcore bench``: measurements as a table, JSON or a PNG chart."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["BenchReport", "Measurement"]


@dataclass(frozen=True)
class Measurement:
    """One timed configuration: a backend (or peer), a mode and a batch size.

    Times are medians over the interleaved rounds; the spread is the
    interquartile range (``latency_q1_us`` to ``latency_q3_us``).

    Attributes
    ----------
    backend, kind, mode : str
        ``kind`` is ``"dlcore"`` or ``"peer"``; ``mode`` ``"single"`` or ``"batch"``.
    batch_size : int
        Images per call (1 in ``"single"`` mode).
    images : int
        Images classified in each round.
    rounds : int
        Timed rounds.
    seconds : float
        Median seconds of a round.
    images_per_s, latency_us : float
        ``images / seconds`` and the median microseconds per image.
    latency_q1_us, latency_q3_us, latency_min_us, latency_max_us : float
        Quartiles and extremes of the microseconds per image over the rounds.
    speedup : float or None
        images/s over the single-image loop of the same backend.
    vs_book, vs_torch : float or None
        images/s over the book's code and over PyTorch in the same configuration
        (None when that peer was not measured).
    accuracy : float
        Accuracy of the last round's predictions.
    device, dtype : str

    Examples
    --------
    >>> from dlcore.bench import Measurement
    >>> m = Measurement("numpy", "dlcore", "batch", 100, 1000, 5, 0.01, 1e5, 10.0,
    ...                 9.5, 10.5, 9.0, 11.0, None, None, None, 0.98, "cpu", "float32")
    >>> m.images_per_s
    100000.0
    """

    backend: str
    kind: str
    mode: str
    batch_size: int
    images: int
    rounds: int
    seconds: float
    images_per_s: float
    latency_us: float
    latency_q1_us: float
    latency_q3_us: float
    latency_min_us: float
    latency_max_us: float
    speedup: float | None
    vs_book: float | None
    vs_torch: float | None
    accuracy: float
    device: str
    dtype: str


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}x"


@dataclass
class BenchReport:
    """The measurements of one :func:`~dlcore.run_bench` call, with what was skipped and why.

    Examples
    --------
    >>> from dlcore.bench import BenchReport
    >>> BenchReport(results=[], skipped={"cupy": "no GPU"}).table().splitlines()[-1]
    'skipped cupy: no GPU'
    """

    results: list[Measurement]
    skipped: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def table(self) -> str:
        """The results as an aligned text table (also valid Markdown)."""
        head = (
            "backend",
            "mode",
            "batch",
            "images",
            "images/s",
            "µs/image",
            "IQR µs/image",
            "vs single",
            "vs book",
            "vs torch",
            "accuracy",
        )
        rows = [
            (
                m.backend if m.kind == "dlcore" else f"{m.backend} (peer)",
                m.mode,
                str(m.batch_size),
                str(m.images),
                f"{m.images_per_s:,.0f}",
                f"{m.latency_us:.2f}",
                f"{m.latency_q1_us:.2f}-{m.latency_q3_us:.2f}",
                "" if m.speedup is None else f"{m.speedup:.1f}x",
                _ratio(m.vs_book),
                _ratio(m.vs_torch),
                f"{m.accuracy:.4f}",
            )
            for m in self.results
        ]
        widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(head)]
        left = {0, 1}

        def line(cells: Sequence[str]) -> str:
            out = [
                c.ljust(w) if i in left else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            ]
            return "| " + " | ".join(out) + " |"

        rule = "|".join(
            ("-" * (w + 2)) if i in left else ("-" * (w + 1) + ":") for i, w in enumerate(widths)
        )
        lines = [line(head), f"|{rule}|", *(line(r) for r in rows)]
        lines += [f"skipped {name}: {why}" for name, why in self.skipped.items()]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict: ``meta``, ``results`` and ``skipped``."""
        return {
            "meta": self.meta,
            "results": [asdict(m) for m in self.results],
            "skipped": self.skipped,
        }

    def write_json(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_dict` as JSON to ``path``."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=2)
            f.write("\n")

    def plot(self, path: str | os.PathLike[str]) -> None:
        """Save a PNG chart: median images/s against batch size, one line per backend.

        The single-image loop of each backend is the dashed line of its colour;
        the bars span the interquartile range. Needs matplotlib
        (``pip install "dlcore[plot]"``).
        """
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError as exc:
            msg = f'plotting needs matplotlib ({exc}); install it with: pip install "dlcore[plot]"'
            raise ImportError(msg) from exc
        fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
        names = list(dict.fromkeys(m.backend for m in self.results))
        for i, name in enumerate(names):
            color = f"C{i % 10}"
            mine = [m for m in self.results if m.backend == name]
            label = f"{name} (peer)" if all(m.kind == "peer" for m in mine) else name
            batch = [m for m in mine if m.mode == "batch"]
            single = [m for m in mine if m.mode == "single"]
            if batch:
                rates = [m.images_per_s for m in batch]
                low = [r - 1e6 / m.latency_q3_us for r, m in zip(rates, batch, strict=True)]
                high = [1e6 / m.latency_q1_us - r for r, m in zip(rates, batch, strict=True)]
                ax.errorbar(
                    [m.batch_size for m in batch],
                    rates,
                    yerr=[low, high],
                    marker="o",
                    capsize=3,
                    color=color,
                    label=label,
                )
            if single:
                ax.axhline(single[0].images_per_s, color=color, linestyle="--", linewidth=1)
                if not batch:
                    ax.plot([], [], color=color, linestyle="--", label=f"{label}, single")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("batch size (images per call)")
        ax.set_ylabel("images / s (median)")
        layers = str(self.meta.get("network", "")).split(" ")[0]
        ax.set_title(f"MNIST inference, {layers} network (dashed: one image per call)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        fig.savefig(path, dpi=120)
        plt.close(fig)
