"""``dlcore bench``: MNIST inference image by image and in batches, on every backend.

For each backend (and two peers: the book's NumPy code and PyTorch), the
shipped sample network classifies the shipped 10,000 MNIST test images

* one image per call (``mode="single"``: the book's ``for i in range(len(x))``
  loop), and
* ``batch_size`` images per call for each batch size (``mode="batch"``),

and the report gives images per second, latency per image, the speed-up of
each batch size over the single-image loop of the same backend, and the
accuracy of the predictions that were timed.

Timing rules: the first calls (JIT compilation, caches) are made before the
clock starts; a device backend is synchronized before the clock stops; each
timed run stops early once it has used its time budget (so a slow backend
costs seconds, not minutes) and the fastest of ``repeats`` runs is kept.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_BATCH_SIZES",
    "PEERS",
    "BenchReport",
    "Measurement",
    "bench_backends",
    "book_predict",
    "load_shipped",
    "make_runner",
    "peer_status",
    "run_bench",
    "torch_model",
]

#: Batch sizes measured by default.
DEFAULT_BATCH_SIZES = (1, 10, 100, 1000, 10000)
#: Peers measured beside the dlcore backends: the book's NumPy code and PyTorch.
PEERS = ("book", "pytorch")
#: Backends that are not benchmarked (lazy: use :func:`dlcore.predict_dask` instead).
_NOT_BENCHED = {"dask": "a lazy backend: time dlcore.predict_dask(...).compute() instead"}
#: Default order of the dlcore backends in the report.
_ORDER = ("numpy", "numba", "cupy", "torch", "jax", "array_api_strict")


# -- the book's code, a peer ---------------------------------------------------
# A faithful transcription of the book's MNIST inference, credited: Koki Saito,
# "Deep Learning from Scratch" (O'Reilly Japan, 2016), ch03/neuralnet_mnist.py
# (predict) and common/functions.py (sigmoid, softmax) of
# github.com/oreilly-japan/deep-learning-from-scratch (MIT License).
def _book_sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _book_softmax(x: np.ndarray) -> np.ndarray:
    x = x - np.max(x, axis=-1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def book_predict(network: Mapping[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """The book's ``predict`` (ch. 3, ``neuralnet_mnist.py``), unchanged: the peer to beat.

    Parameters
    ----------
    network : dict
        ``W1, b1, W2, b2, W3, b3`` as NumPy arrays.
    x : numpy.ndarray
        One image (784,) or a batch (N, 784).

    Returns
    -------
    numpy.ndarray
        Softmax probabilities.

    Notes
    -----
    Credit: Koki Saito, *Deep Learning from Scratch* (O'Reilly Japan, 2016),
    ``ch03/neuralnet_mnist.py`` and ``common/functions.py`` (MIT License).

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore.bench import book_predict
    >>> net = {f"{p}{i}": np.zeros((2, 2)) if p == "W" else np.zeros(2)
    ...        for i in (1, 2, 3) for p in "Wb"}
    >>> book_predict(net, np.array([1.0, 2.0]))
    array([0.5, 0.5])
    """
    W1, W2, W3 = network["W1"], network["W2"], network["W3"]
    b1, b2, b3 = network["b1"], network["b2"], network["b3"]
    a1 = np.dot(x, W1) + b1
    z1 = _book_sigmoid(a1)
    a2 = np.dot(z1, W2) + b2
    z2 = _book_sigmoid(a2)
    a3 = np.dot(z2, W3) + b3
    return _book_softmax(a3)


# -- results -------------------------------------------------------------------
@dataclass(frozen=True)
class Measurement:
    """One timed configuration: a backend (or peer), a mode and a batch size."""

    backend: str
    kind: str  # "dlcore" or "peer"
    mode: str  # "single" or "batch"
    batch_size: int
    images: int  # images classified in the fastest timed run
    seconds: float  # wall time of that run
    images_per_s: float
    latency_us: float  # seconds per image, in microseconds
    speedup: float | None  # images/s over the single-image loop of the same backend
    accuracy: float  # on the `images` that were timed
    device: str
    dtype: str


@dataclass
class BenchReport:
    """The measurements of one :func:`run_bench` call, with what was skipped and why."""

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
            "vs single",
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
                "" if m.speedup is None else f"{m.speedup:.1f}x",
                f"{m.accuracy:.4f}",
            )
            for m in self.results
        ]
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
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
        rule = f"|{rule}|"
        lines = [line(head), rule, *(line(r) for r in rows)]
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
        """Save a PNG chart: images/s against batch size, one line per backend.

        The single-image loop of each backend is the dashed line of its colour.
        Needs matplotlib (``pip install "dlcore[plot]"``).
        """
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError as exc:
            msg = f'--plot needs matplotlib ({exc}); install it with: pip install "dlcore[plot]"'
            raise ImportError(msg) from exc
        fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
        names = list(dict.fromkeys(m.backend for m in self.results))
        for i, name in enumerate(names):
            color = f"C{i % 10}"
            peer = all(m.kind == "peer" for m in self.results if m.backend == name)
            label = f"{name} (peer)" if peer else name
            batch = [m for m in self.results if m.backend == name and m.mode == "batch"]
            single = [m for m in self.results if m.backend == name and m.mode == "single"]
            if batch:
                ax.plot(
                    [m.batch_size for m in batch],
                    [m.images_per_s for m in batch],
                    marker="o",
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
        ax.set_ylabel("images / s")
        layers = str(self.meta.get("network", "")).split(" ")[0]
        ax.set_title(f"MNIST inference, {layers} network (dashed: one image per call)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        fig.savefig(path, dpi=120)
        plt.close(fig)


# -- runners: how each backend or peer predicts -------------------------------
@dataclass
class _Runner:
    name: str
    kind: str
    device: str
    predict: Callable[[Any], Any]  # x (batch or one image) -> probabilities
    x: Any  # the images, on the runner's device
    sync: Callable[[Any], None]  # wait until a result is ready
    labels_of: Callable[[list[Any]], np.ndarray]  # results -> predicted labels (host)
    context: Callable[[], Any]  # context manager active while timing


class _NullContext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _block_until_ready(y: Any) -> None:
    ready = getattr(y, "block_until_ready", None)  # JAX dispatches asynchronously
    if ready is not None:
        ready()


def _dlcore_runner(name: str, network: Mapping[str, np.ndarray], x: np.ndarray) -> _Runner:
    import dlcore
    from dlcore.backends import get_backend, use_backend

    backend = get_backend(name)
    net = {k: backend.asarray(v) for k, v in network.items()}
    xd = backend.asarray(x)
    xp = backend.xp

    def predict(xb: Any) -> Any:
        return dlcore.predict(net, xb)

    def sync(y: Any) -> None:
        _block_until_ready(y)
        backend.synchronize()

    def labels_of(ys: list[Any]) -> np.ndarray:
        parts = [np.atleast_2d(backend.to_numpy(xp.argmax(y, axis=-1))).reshape(-1) for y in ys]
        return np.concatenate(parts) if parts else np.empty(0, np.int64)

    return _Runner(
        name=backend.name,
        kind="dlcore",
        device=str(backend.device or "cpu"),
        predict=predict,
        x=xd,
        sync=sync,
        labels_of=labels_of,
        context=lambda: use_backend(name),
    )


def _book_runner(network: Mapping[str, np.ndarray], x: np.ndarray) -> _Runner:
    def predict(xb: Any) -> Any:
        return book_predict(network, xb)

    def labels_of(ys: list[Any]) -> np.ndarray:
        parts = [np.asarray(np.argmax(y, axis=-1)).reshape(-1) for y in ys]
        return np.concatenate(parts) if parts else np.empty(0, np.int64)

    return _Runner("book", "peer", "cpu", predict, x, lambda y: None, labels_of, _NullContext)


def torch_model(network: Mapping[str, np.ndarray]) -> Any:
    """A ``torch.nn.Sequential`` with the same weights: Linear+Sigmoid layers, Softmax output.

    ``nn.Linear`` stores ``W.T`` (outputs x inputs), so each ``W`` is transposed
    on the way in. Raises ImportError when PyTorch is not installed.
    """
    import torch

    n = len(network) // 2
    layers: list[Any] = []
    for i in range(1, n + 1):
        w = np.asarray(network[f"W{i}"])
        lin = torch.nn.Linear(w.shape[0], w.shape[1], dtype=torch.from_numpy(w).dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(w.T)))
            lin.bias.copy_(torch.from_numpy(np.asarray(network[f"b{i}"])))
        layers += [lin, torch.nn.Sigmoid() if i < n else torch.nn.Softmax(dim=-1)]
    return torch.nn.Sequential(*layers).eval()


def _torch_runner(network: Mapping[str, np.ndarray], x: np.ndarray) -> _Runner:
    import torch

    model = torch_model(network)
    xt = torch.from_numpy(x)

    def labels_of(ys: list[Any]) -> np.ndarray:
        parts = [y.argmax(dim=-1).reshape(-1).numpy() for y in ys]
        return np.concatenate(parts) if parts else np.empty(0, np.int64)

    return _Runner(
        "pytorch", "peer", "cpu", model, xt, lambda y: None, labels_of, torch.inference_mode
    )


# -- timing --------------------------------------------------------------------
def _time_single(runner: _Runner, n: int, budget: float) -> tuple[int, float, list[Any]]:
    """Classify images 0, 1, ... one per call until ``n`` images or ``budget`` seconds."""
    predict, x = runner.predict, runner.x
    ys: list[Any] = []
    append = ys.append
    clock = time.perf_counter
    start = clock()
    deadline = start + budget
    i = 0
    while i < n:
        append(predict(x[i, ...]))
        i += 1
        if not i & 15 and clock() > deadline:
            break
    runner.sync(ys[-1])
    return i, clock() - start, ys


def _time_batch(
    runner: _Runner, n: int, batch_size: int, budget: float
) -> tuple[int, float, list[Any]]:
    """Classify the first ``n`` images ``batch_size`` per call, stopping at ``budget`` seconds."""
    predict, x = runner.predict, runner.x
    ys: list[Any] = []
    clock = time.perf_counter
    start = clock()
    deadline = start + budget
    i = 0
    while i < n:
        ys.append(predict(x[i : min(i + batch_size, n), ...]))
        i = min(i + batch_size, n)
        if clock() > deadline:
            break
    runner.sync(ys[-1])
    return i, clock() - start, ys


def make_runner(name: str, network: Mapping[str, np.ndarray], x: np.ndarray) -> _Runner:
    """How ``name`` (a dlcore backend, ``"book"`` or ``"pytorch"``) classifies images.

    Returns an object with ``predict(x)``, the images ``x`` on the runner's
    device, ``sync(y)`` (wait for a result), ``labels_of(results)``,
    ``device`` and ``context()`` (a context manager to time inside). Used by
    :func:`run_bench` and the pytest-benchmark suite in ``benchmarks/``.
    """
    if name == "book":
        return _book_runner(network, x)
    if name == "pytorch":
        return _torch_runner(network, x)
    return _dlcore_runner(name, network, x)


def load_shipped(dtype: str = "float32") -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """The shipped sample network and 10,000 test images and labels, as host NumPy arrays."""
    return _load_shipped(dtype)


def bench_backends() -> dict[str, tuple[bool, str]]:
    """The dlcore backends ``dlcore bench`` can time, with ``(available, reason it is not)``."""
    from dlcore.backends import available_backends

    status = available_backends()
    names = [n for n in _ORDER if n in status] + sorted(set(status) - set(_ORDER))
    return {n: status[n] for n in names if n not in _NOT_BENCHED}


def peer_status() -> dict[str, tuple[bool, str]]:
    """The peers with ``(available, reason it is not)``."""
    return _peer_status()


def _peer_status() -> dict[str, tuple[bool, str]]:
    import importlib.util

    torch_ok = importlib.util.find_spec("torch") is not None
    return {
        "book": (True, ""),
        "pytorch": (
            torch_ok,
            "" if torch_ok else "PyTorch is not installed (pip install torch to compare with it)",
        ),
    }


def _load_shipped(dtype: str) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    import dlcore
    from dlcore.backends import use_backend

    with use_backend("numpy"):
        net = {k: dlcore.to_numpy(v).astype(dtype) for k, v in dlcore.load_sample_network().items()}
        x, t = dlcore.load_mnist_test(normalize=True, flatten=True, one_hot_label=False)
    return net, np.ascontiguousarray(dlcore.to_numpy(x), dtype=dtype), dlcore.to_numpy(t)


def run_bench(
    backends: Iterable[str] | None = None,
    batch_sizes: Iterable[int] = DEFAULT_BATCH_SIZES,
    *,
    single: bool = True,
    peers: Iterable[str] | None = PEERS,
    quick: bool = False,
    budget: float | None = None,
    repeats: int | None = None,
    dtype: str = "float32",
    progress: bool = True,
    data: tuple[Mapping[str, Any], Any, Any] | None = None,
) -> BenchReport:
    """Time MNIST inference image by image and in batches on each backend.

    Parameters
    ----------
    backends : iterable of str, optional
        dlcore backends to time; default: every available one (see
        :func:`bench_backends`). A named backend that cannot run is an error.
    batch_sizes : iterable of int
        Batch sizes of the ``"batch"`` mode (each >= 1); empty for none.
    single : bool
        Also time the single-image loop (``"single"`` mode).
    peers : iterable of str or None
        Peers to time beside dlcore: ``"book"`` (the book's NumPy code) and
        ``"pytorch"`` (``torch.nn.Sequential``, skipped with the reason when
        PyTorch is missing). None or empty for none.
    quick : bool
        A smoke run: 0.05 s per timed run, one run each.
    budget : float, optional
        Seconds a timed run may take before it stops early (default 0.25,
        0.05 with ``quick``).
    repeats : int, optional
        Timed runs per configuration; the fastest is kept (default 3, 1 with
        ``quick``).
    dtype : {"float32", "float64"}
        Dtype of the images and weights (the shipped ones are float32).
    progress : bool
        Show a progress bar on stderr (needs tqdm; silently none without).
    data : (network, images, labels), optional
        Other data than the shipped sample network and test set (NumPy
        arrays; for tests and custom networks).

    Returns
    -------
    BenchReport
        One :class:`Measurement` per backend, mode and batch size.

    Examples
    --------
    >>> import dlcore
    >>> report = dlcore.run_bench(["numpy"], [100], single=False, peers=(), quick=True,
    ...                           progress=False)
    >>> [(m.backend, m.mode, m.batch_size) for m in report.results]
    [('numpy', 'batch', 100)]
    >>> report.results[0].accuracy > 0.97
    True

    Raises
    ------
    ValueError
        A batch size < 1, an unknown backend or peer, or nothing to run.
    dlcore.BackendError
        A backend that was asked for by name is not available here.
    """
    from dlcore.backends import get_backend

    sizes = [_positive(b) for b in batch_sizes]
    if dtype not in ("float32", "float64"):
        msg = f"dtype must be 'float32' or 'float64', got {dtype!r}"
        raise ValueError(msg)
    status = bench_backends()
    skipped: dict[str, str] = {}
    if backends is None:
        names = [n for n, (ok, _) in status.items() if ok]
        skipped.update({n: why for n, (ok, why) in status.items() if not ok})
    else:
        names = []
        for raw in backends:
            name = raw.strip().lower()
            if name in _NOT_BENCHED:
                msg = f"backend {name!r} is not benchmarked: {_NOT_BENCHED[name]}"
                raise ValueError(msg)
            get_backend(name)  # unknown -> ValueError, unavailable -> BackendError
            if name not in names:
                names.append(name)
    peer_names: list[str] = []
    peer_status = _peer_status()
    for raw in peers or ():
        name = raw.strip().lower()
        if name not in peer_status:
            msg = f"unknown peer {raw!r}; valid peers are: {', '.join(PEERS)}"
            raise ValueError(msg)
        ok, why = peer_status[name]
        if ok:
            peer_names.append(name)
        else:
            skipped[name] = why
    if not names and not peer_names:
        msg = "nothing selected: no backend or peer to time"
        raise ValueError(msg)
    if not sizes and not single:
        msg = "nothing selected: no batch size and the single-image loop is off"
        raise ValueError(msg)

    budget = (0.05 if quick else 0.25) if budget is None else float(budget)
    repeats = (1 if quick else 3) if repeats is None else _positive(repeats, "repeats")
    if data is None:
        network, x, t = _load_shipped(dtype)
    else:
        network = {k: np.asarray(v, dtype=dtype) for k, v in data[0].items()}
        x = np.ascontiguousarray(data[1], dtype=dtype)
        t = np.asarray(data[2])
    if "book" in peer_names and sorted(network) != ["W1", "W2", "W3", "b1", "b2", "b3"]:
        peer_names.remove("book")
        skipped["book"] = "the book's predict is written for three layers (W1..W3, b1..b3)"
    n = int(x.shape[0])
    modes = ([("single", 1)] if single else []) + [("batch", b) for b in sizes]

    runners = [functools.partial(make_runner, name, network, x) for name in names + peer_names]

    bar = _progress(len(runners) * len(modes), progress)
    results: list[Measurement] = []
    try:
        for start in runners:
            runner = start()
            with runner.context():
                single_rate: float | None = None
                for mode, size in modes:
                    if bar is not None:
                        bar.set_description(f"{runner.name} {mode} {size}")
                    m = _measure(runner, mode, size, n, t, budget, repeats, dtype, single_rate)
                    if mode == "single":
                        single_rate = m.images_per_s
                    results.append(m)
                    if bar is not None:
                        bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    meta = _meta(names, network, dtype, n, budget, repeats, quick)
    return BenchReport(results=results, skipped=skipped, meta=meta)


def _measure(
    runner: _Runner,
    mode: str,
    size: int,
    n: int,
    labels: np.ndarray,
    budget: float,
    repeats: int,
    dtype: str,
    single_rate: float | None,
) -> Measurement:
    # warm-up, not timed: JIT compilation, caches, lazy imports
    for _ in range(2):
        y = runner.predict(runner.x[0, ...] if mode == "single" else runner.x[: min(size, n), ...])
        runner.sync(y)
    if mode == "single":
        runs = [_time_single(runner, n, budget) for _ in range(repeats)]
    else:
        runs = [_time_batch(runner, n, size, budget) for _ in range(repeats)]
    images, seconds, ys = max(runs, key=lambda run: run[0] / run[1])
    predicted = runner.labels_of(ys)
    accuracy = float(np.mean(predicted[:images] == np.asarray(labels)[:images]))
    rate = images / seconds
    speedup = rate / single_rate if single_rate else (1.0 if mode == "single" else None)
    return Measurement(
        backend=runner.name,
        kind=runner.kind,
        mode=mode,
        batch_size=size,
        images=images,
        seconds=seconds,
        images_per_s=rate,
        latency_us=seconds / images * 1e6,
        speedup=speedup,
        accuracy=accuracy,
        device=runner.device,
        dtype=dtype,
    )


def _positive(value: Any, what: str = "batch size") -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        msg = f"{what} must be a positive integer, got {value!r}"
        raise ValueError(msg)
    return int(value)


def _progress(total: int, enabled: bool) -> Any:
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="run", file=sys.stderr, leave=False, disable=None)


def _meta(
    names: list[str],
    network: Mapping[str, np.ndarray],
    dtype: str,
    n: int,
    budget: float,
    repeats: int,
    quick: bool,
) -> dict[str, Any]:
    import dlcore
    from dlcore.backends import get_backend

    versions: dict[str, str] = {"dlcore": dlcore.__version__, "python": platform.python_version()}
    for name in names:
        versions.update(get_backend(name).versions())
    try:
        import torch

        versions["torch"] = torch.__version__
    except ImportError:
        pass
    depth = len(network) // 2
    sizes = [network["W1"].shape[0]] + [network[f"W{i}"].shape[1] for i in range(1, depth + 1)]
    layers = "-".join(map(str, sizes)) + " sigmoid hidden layers, softmax output"
    return {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        },
        "versions": versions,
        "settings": {
            "dtype": dtype,
            "images": n,
            "budget_s": budget,
            "repeats": repeats,
            "quick": quick,
        },
        "network": layers,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
