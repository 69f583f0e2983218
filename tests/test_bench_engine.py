"""The timing engine: interleaved rounds, medians and spreads, warm-up, sync, budget."""

from __future__ import annotations

import math
import time
from contextlib import contextmanager

import numpy as np
import pytest

from dlcore.bench import Contender, Timing, compare


class FakeClock:
    """A clock that only moves when a contender "works": timings become exact."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def costing(clock: FakeClock, name: str, cost, **kwargs) -> Contender:
    """A contender whose call ``i`` advances the clock by ``cost(i)`` (or a constant)."""
    per_call = cost if callable(cost) else (lambda i: cost)

    def call(i: int) -> int:
        clock.now += per_call(i)
        return i

    return Contender(name, call, **kwargs)


def test_medians_are_exact_and_ordered_with_a_fake_clock():
    clock = FakeClock()
    contenders = [costing(clock, "slow", 0.004), costing(clock, "fast", 0.001)]
    slow, fast = compare(contenders, rounds=5, budget=1.0, clock=clock)
    assert (slow.name, fast.name) == ("slow", "fast")
    assert slow.median == pytest.approx(0.004)
    assert fast.median == pytest.approx(0.001)
    assert slow.rounds == fast.rounds == 5
    assert slow.iqr == pytest.approx((0.004, 0.004))


def test_spread_is_the_iqr_and_contains_the_median():
    clock = FakeClock()
    rounds = iter(range(10**6))
    state = {"round": 0}

    @contextmanager
    def next_round():
        state["round"] = next(rounds)
        yield

    # the cost per call grows with each block: 1 ms in the warm-up and calibration (one
    # entry of the context), then 2, 3, ..., 8 ms per call in the seven timed rounds
    c = costing(clock, "drifting", lambda i: 1e-3 * (state["round"] + 1), context=next_round)
    (t,) = compare([c], rounds=7, budget=1.0, clock=clock)
    per_call = np.asarray(t.times) / t.iterations
    np.testing.assert_allclose(per_call, 1e-3 * np.arange(2, 9))
    q1, q3 = t.iqr
    assert q3 - q1 >= 0
    assert t.minimum <= q1 <= t.median <= q3 <= t.maximum
    assert t.median == pytest.approx(5e-3)
    assert (q1, q3) == pytest.approx((3.5e-3, 6.5e-3))  # numpy.percentile, linear


def test_real_sleeps_are_ordered_and_near_their_duration():
    naps = {"nap6ms": 0.006, "nap2ms": 0.002}
    contenders = [Contender(n, lambda i, s=s: time.sleep(s)) for n, s in naps.items()]
    timings = compare(contenders, rounds=5, budget=0.2)
    by_name = {t.name: t for t in timings}
    assert by_name["nap2ms"].median < by_name["nap6ms"].median
    for name, seconds in naps.items():
        t = by_name[name]
        assert seconds <= t.median < seconds + 0.004, (name, t.median)
        q1, q3 = t.iqr
        assert t.minimum <= q1 <= t.median <= q3 <= t.maximum


def test_rounds_interleave_every_contender_in_a_rotating_order():
    log: list[str] = []

    def recording(name: str) -> Contender:
        @contextmanager
        def enter():
            log.append(name)  # entered once for the warm-up, then once per timed block
            yield

        return Contender(name, lambda i: i, context=enter, max_iterations=3)

    names = ["a", "b", "c"]
    compare([recording(n) for n in names], rounds=6, budget=0.01)
    assert log[:3] == names  # warm-up and calibration, before any timed round
    blocks = [log[3 + 3 * r : 6 + 3 * r] for r in range(6)]
    assert len(log) == 3 + 3 * 6
    for r, block in enumerate(blocks):
        assert sorted(block) == names  # every contender once per round
        assert block == names[r % 3 :] + names[: r % 3]  # rotated by one each round


def test_sync_runs_inside_the_clock_and_results_are_the_last_round():
    clock = FakeClock()
    synced: list[int] = []

    def sync(y: int) -> None:
        synced.append(y)
        clock.now += 0.5  # the device work the sync waits for

    c = costing(clock, "device", 0.0, sync=sync, max_iterations=4)
    (t,) = compare([c], rounds=3, budget=math.inf, clock=clock)
    assert t.iterations == 4
    assert t.times == (0.5, 0.5, 0.5)  # nothing but the sync took time
    assert t.results == [0, 1, 2, 3]
    assert synced[-3:] == [3, 3, 3]  # the last call's result, once per round


def test_warmup_calls_are_untimed_and_a_hiccup_does_not_shrink_the_rounds():
    clock = FakeClock()
    calls = {"n": 0}

    def cost(i: int) -> float:
        calls["n"] += 1
        return 5.0 if calls["n"] <= 2 else 1e-3  # JIT: the first calls are very slow

    (t,) = compare([costing(clock, "jit", cost)], rounds=3, budget=0.3, warmup=1, clock=clock)
    assert t.median == pytest.approx(1e-3)  # the slow first calls were not timed
    assert t.iterations == 100  # the budget's share, 0.1 s, at 1 ms per call


def test_budget_sets_iterations_and_every_contender_gets_every_round():
    clock = FakeClock()
    contenders = [
        costing(clock, "fast", 1e-3),
        costing(clock, "medium", 1e-2),
        costing(clock, "slow", 1.0),  # far over its share: one call per round
    ]
    timings = compare(contenders, rounds=4, budget=0.6, clock=clock)
    # each contender's share: 0.6 s / (4 rounds * 3 contenders) = 50 ms per round
    assert [t.iterations for t in timings] == [50, 5, 1]
    assert [t.rounds for t in timings] == [4, 4, 4]
    fitting = sum(sum(t.times) for t in timings[:2])
    assert fitting <= 0.6 * 2 / 3 + 1e-12


def test_budget_bounds_the_wall_time_of_a_slow_contender():
    start = time.perf_counter()
    slow = Contender("slow", lambda i: time.sleep(0.02))
    (t,) = compare([slow], rounds=3, budget=0.01)
    wall = time.perf_counter() - start
    assert t.iterations == 1
    assert t.rounds == 3
    assert wall < 0.5  # 1 warm-up + 2 calibration + 3 timed calls of 20 ms


def test_max_iterations_caps_the_calls_and_inf_budget_uses_it():
    clock = FakeClock()
    (t,) = compare([costing(clock, "c", 1e-6, max_iterations=7)], budget=10.0, clock=clock)
    assert t.iterations == 7
    (t,) = compare([costing(clock, "c", 1.0, max_iterations=2)], budget=math.inf, clock=clock)
    assert t.iterations == 2


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"rounds": 0}, ValueError, "`rounds` must be a positive integer, got 0"),
        ({"budget": -1.0}, ValueError, "`budget` must be a positive number of seconds"),
        ({"budget": float("nan")}, ValueError, "`budget` must be a positive number"),
        ({"budget": "2"}, TypeError, "`budget` must be a positive number"),
        ({"warmup": -1}, ValueError, "`warmup` must be an integer >= 0"),
    ],
)
def test_bad_settings_are_clear_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        compare([Contender("c", lambda i: i)], **kwargs)


def test_bad_contenders_are_clear_errors():
    with pytest.raises(ValueError, match="`contenders` is empty"):
        compare([])
    with pytest.raises(ValueError, match="names must be unique"):
        compare([Contender("c", lambda i: i), Contender("c", lambda i: i)])
    with pytest.raises(ValueError, match="infinite budget needs max_iterations"):
        compare([Contender("c", lambda i: i)], budget=math.inf)


def test_timing_statistics():
    t = Timing("t", iterations=2, times=(0.8, 0.2, 0.4, 0.6))
    assert t.rounds == 4
    np.testing.assert_allclose(t.per_call, [0.4, 0.1, 0.2, 0.3])
    assert t.median == pytest.approx(0.25)
    assert t.iqr == pytest.approx((0.175, 0.325))
    assert (t.minimum, t.maximum) == pytest.approx((0.1, 0.4))


def test_settle_idles_and_warms_up_outside_the_clock():
    clock = FakeClock()
    calls: list[int] = []

    def call(i: int) -> int:
        calls.append(i)
        clock.now += 0.01
        return i

    c = Contender("c", call, max_iterations=2)
    start = time.perf_counter()
    (t,) = compare([c], rounds=3, budget=math.inf, warmup=0, settle=0.02, clock=clock)
    assert time.perf_counter() - start >= 3 * 0.02  # slept before each timed block
    assert t.times == pytest.approx((0.02, 0.02, 0.02))  # the extra call was not timed
    assert calls[-9:] == [0, 0, 1] * 3  # one untimed call, then the block's two
    with pytest.raises(ValueError, match="`settle` must be a number of seconds >= 0"):
        compare([c], settle=-1.0)
