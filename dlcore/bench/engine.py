"""The one timing engine: contenders timed in interleaved rounds, reported by their median.

Every contender is first called untimed (JIT compilation, caches, lazy
imports), then timed in ``rounds`` rounds. Each round runs every contender
once, in an order rotated by one place per round (round ``r`` starts with
contender ``r mod k``), so a slow spell of the machine hits all of them alike
instead of the one that happened to run then. A contender's timed block is
``iterations`` calls followed by its ``sync`` (a device backend waits for its
result) before the clock stops.

With ``settle`` > 0 the engine sleeps that long before each timed block and
then makes one untimed call: the thread pools of the contender before it
(OpenBLAS, OpenMP) stop spinning on the cores, and this contender's own pools
are awake when the clock starts. Without it, on a machine with few cores, a
multi-threaded contender that runs right after another library's spinning
pool can be several times slower than it is on its own.

The budget is per :func:`compare` call: each contender gets an equal share
of it, spread over the rounds, and runs as many calls per round as fit in its
share (at least one, at most ``max_iterations``). A slow contender thus makes
fewer calls per round, never fewer rounds.

The statistic is the median over the rounds of the time per call; the spread
is the interquartile range (25th to 75th percentile, linear interpolation as
:func:`numpy.percentile`), with the minimum and maximum beside it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dlcore._validate import check_count

__all__ = ["Contender", "Timing", "compare"]

#: A calibration block of calls is doubled until it takes this long (seconds).
_CALIBRATION_S = 0.002


def _no_sync(result: Any) -> None:
    """A host result is ready when the call returns."""


@dataclass(frozen=True)
class Contender:
    """Something to time: ``call(i)`` does the ``i``-th unit of work and returns its result.

    Parameters
    ----------
    name : str
        Its name in the results (unique within one :func:`compare`).
    call : callable
        ``call(i)`` for ``i = 0, 1, ..., iterations - 1`` in each round: the
        same indices every round, so every round does the same work.
    sync : callable, optional
        ``sync(result)`` waits until the last call's result is ready (device
        work); called before the clock stops. Default: nothing to wait for.
    context : callable, optional
        Returns a context manager entered around each timed block, outside
        the clock (``use_backend(...)``, ``torch.inference_mode``).
    max_iterations : int, optional
        At most this many calls per round (e.g. the number of batches in the data).

    Examples
    --------
    >>> from dlcore.bench import Contender
    >>> Contender("square", lambda i: i * i).name
    'square'
    """

    name: str
    call: Callable[[int], Any]
    sync: Callable[[Any], None] = _no_sync
    context: Callable[[], AbstractContextManager[Any]] = nullcontext
    max_iterations: int | None = None


@dataclass(frozen=True)
class Timing:
    """The timed rounds of one contender.

    Attributes
    ----------
    name : str
        The contender's name.
    iterations : int
        Calls per round (the same in every round).
    times : tuple of float
        Seconds of each round (``iterations`` calls and the sync), in round order.
    results : list
        The results of the last round's calls, in call order.

    Examples
    --------
    >>> from dlcore.bench import Timing
    >>> t = Timing("f", iterations=2, times=(0.2, 0.4, 0.3))
    >>> t.median, t.rounds
    (0.15, 3)
    """

    name: str
    iterations: int
    times: tuple[float, ...]
    results: list[Any] = field(default_factory=list, repr=False, compare=False)

    @property
    def rounds(self) -> int:
        """The number of timed rounds."""
        return len(self.times)

    @property
    def per_call(self) -> np.ndarray:
        """Seconds per call in each round."""
        return np.asarray(self.times, dtype=np.float64) / self.iterations

    @property
    def median(self) -> float:
        """Median over the rounds of the seconds per call: the reported statistic."""
        return float(np.median(self.per_call))

    @property
    def iqr(self) -> tuple[float, float]:
        """25th and 75th percentile of the seconds per call: the reported spread."""
        q1, q3 = np.percentile(self.per_call, [25.0, 75.0])
        return float(q1), float(q3)

    @property
    def minimum(self) -> float:
        """The fastest round's seconds per call."""
        return float(np.min(self.per_call))

    @property
    def maximum(self) -> float:
        """The slowest round's seconds per call."""
        return float(np.max(self.per_call))


def check_budget(budget: Any) -> float:
    """Return ``budget`` as a float if it is a positive number of seconds (``inf`` allowed).

    Examples
    --------
    >>> from dlcore.bench.engine import check_budget
    >>> check_budget(2)
    2.0
    """
    if isinstance(budget, bool) or not isinstance(budget, (int, float, np.integer, np.floating)):
        msg = f"`budget` must be a positive number of seconds, got {budget!r}"
        raise TypeError(msg)
    value = float(budget)
    if not value > 0:
        msg = f"`budget` must be a positive number of seconds (e.g. 2.0), got {budget!r}"
        raise ValueError(msg)
    return value


def compare(
    contenders: Sequence[Contender],
    *,
    rounds: int = 7,
    budget: float = 2.0,
    warmup: int = 1,
    settle: float = 0.0,
    clock: Callable[[], float] = time.perf_counter,
) -> list[Timing]:
    """Time the contenders in interleaved rounds within a time budget.

    Parameters
    ----------
    contenders : sequence of Contender
        What to time; names must be unique.
    rounds : int
        Timed rounds; every contender runs once per round.
    budget : float
        Seconds of timed calls for all contenders and rounds together
        (approximately: each contender runs at least one call per round).
        ``math.inf`` runs ``max_iterations`` calls per round, which every
        contender must then have.
    warmup : int
        Untimed calls per contender before calibration (>= 0); calibration
        itself is untimed warm-up too.
    settle : float
        Seconds to sleep before each timed block, followed by one untimed
        call (default 0: neither); not counted in the budget.
    clock : callable
        Seconds as a float (``time.perf_counter``).

    Returns
    -------
    list of Timing
        One per contender, in the order given.

    Examples
    --------
    >>> from dlcore.bench import Contender, compare
    >>> fast = Contender("fast", lambda i: i)
    >>> slow = Contender("slow", lambda i: sum(range(2000)))
    >>> timings = compare([fast, slow], rounds=3, budget=0.05)
    >>> [(t.name, t.rounds) for t in timings]
    [('fast', 3), ('slow', 3)]
    >>> timings[0].median < timings[1].median
    True
    """
    rounds = check_count(rounds, "rounds")
    budget = check_budget(budget)
    warmup = check_count(warmup, "warmup", minimum=0)
    if not (isinstance(settle, (int, float)) and 0 <= settle < math.inf):
        msg = f"`settle` must be a number of seconds >= 0, got {settle!r}"
        raise ValueError(msg)
    contenders = list(contenders)
    if not contenders:
        msg = "`contenders` is empty; give at least one Contender to time"
        raise ValueError(msg)
    names = [c.name for c in contenders]
    if len(set(names)) != len(names):
        msg = f"contender names must be unique, got {names}; rename the repeated ones"
        raise ValueError(msg)
    caps = [_cap(c, budget) for c in contenders]

    share = budget / (rounds * len(contenders))
    iterations = []
    for c, cap in zip(contenders, caps, strict=True):
        per_call = _warm_up(c, warmup, cap, clock)
        # calls that fit in the share (the 1e-9 keeps 0.05 / 0.001 from flooring to 49)
        fit = cap if math.isinf(share) or per_call <= 0 else int(share / per_call * (1 + 1e-9))
        iterations.append(max(1, min(fit, cap)))

    times: list[list[float]] = [[] for _ in contenders]
    last: list[list[Any]] = [[] for _ in contenders]
    k = len(contenders)
    for r in range(rounds):
        for j in (*range(r % k, k), *range(r % k)):
            times[j].append(_timed_block(contenders[j], iterations[j], last[j], settle, clock))
    return [
        Timing(c.name, n, tuple(t), results)
        for c, n, t, results in zip(contenders, iterations, times, last, strict=True)
    ]


def _cap(contender: Contender, budget: float) -> int:
    """The most calls per round ``contender`` may make."""
    if contender.max_iterations is not None:
        return check_count(contender.max_iterations, f"max_iterations of {contender.name!r}")
    if math.isinf(budget):
        msg = (
            f"an infinite budget needs max_iterations on every contender; "
            f"{contender.name!r} has none: give it one or a finite budget"
        )
        raise ValueError(msg)
    return 2**62


def _warm_up(contender: Contender, warmup: int, cap: int, clock: Callable[[], float]) -> float:
    """Untimed calls, then blocks of 1, 1, 2, 4, ... calls; the fastest block's seconds/call.

    Blocks grow until one lasts ``_CALIBRATION_S``; the fastest, not the last,
    sets the estimate, so one hiccup of the machine does not shrink the rounds.
    """
    call, sync = contender.call, contender.sync
    best = math.inf
    with contender.context():
        for i in range(warmup):
            sync(call(i % cap))
        calls, blocks = 1, 0
        while True:
            start = clock()
            for i in range(calls):
                y = call(i)
            sync(y)
            seconds = clock() - start
            best, blocks = min(best, seconds / calls), blocks + 1
            if (seconds >= _CALIBRATION_S and blocks >= 2) or calls >= cap:
                return best
            calls = min(calls if blocks == 1 else 2 * calls, cap)


def _timed_block(
    contender: Contender,
    iterations: int,
    results: list[Any],
    settle: float,
    clock: Callable[[], float],
) -> float:
    """Seconds of ``iterations`` calls and the sync; ``results`` gets this block's results."""
    results.clear()
    append, call = results.append, contender.call
    with contender.context():
        if settle > 0:
            time.sleep(settle)  # other pools stop spinning,
            contender.sync(call(0))  # then this one's wake up, untimed
        start = clock()
        for i in range(iterations):
            append(call(i))
        contender.sync(results[-1])
        return clock() - start
