"""Gradient check: backprop against the numerical gradient, per parameter (the book's 5.7.3)."""

from __future__ import annotations

from typing import Any

from ._validate import namespace

__all__ = ["gradient_check"]


def gradient_check(net: Any, x: Any, t: Any) -> dict[str, dict[str, float]]:
    """Compare ``net.gradient(x, t)`` (backprop) with ``net.numerical_gradient(x, t)``.

    Parameters
    ----------
    net : TwoLayerNet or MultiLayerNet
        Anything with ``gradient`` and ``numerical_gradient`` returning dicts
        of arrays with the same keys.
    x, t : array
        A few inputs and their labels (the book uses 3 MNIST images).

    Returns
    -------
    dict
        ``{key: {"mean": mean |backprop - numerical|, "max": max |...|}}``
        for every parameter, as Python floats.

    Notes
    -----
    *The floor from delta.* The loss is
    :math:`-\\frac1N \\sum_n \\log(y_{n,t_n} + \\delta)` with the book's
    :math:`\\delta = 10^{-7}`; backprop differentiates it as if
    :math:`\\delta = 0` (``(y - t) / N``). The two gradients therefore differ
    by up to about :math:`\\delta / (N y_{n,t_n})` times the input of the
    layer, even with exact arithmetic. With 10 classes and an untrained net
    (:math:`y \\approx 0.1`) that is about :math:`10^{-6}` relative. Measured
    in float64 on ``TwoLayerNet(4, 5, 3, weight_init_std=1.0, seed=0)`` with
    8 inputs from ``N(0, 1)`` and labels ``0, 1, 2, 0, ...`` (smallest
    :math:`y_{n,t_n}` 0.18), identical on numpy, numba and array_api_strict:
    max abs difference ``1.25e-7`` (``W2``; ``W1`` ``7.7e-8``, ``b1``
    ``5.4e-8``, ``b2`` ``9.3e-8``), against at most ``3.7e-10`` for the same
    loss with :math:`\\delta = 0`. ``tests/test_nets.py`` asserts
    it lies between ``1e-8`` and ``1.5e-7``. The
    book's check (``dlcore gradcheck``: the first 3 MNIST training images,
    784-50-10, ``weight_init_std=0.01``, seed 0, untrained so
    :math:`y \\approx 0.1`) gives mean differences ``W1`` 2.2e-10, ``b1``
    1.0e-9, ``W2`` 7.3e-8, ``b2`` 1.5e-7 (max 2.8e-7): the same floor,
    :math:`\\delta / (N y) \\approx 3 \\cdot 10^{-7}` on the output layer.
    Each layer alone (without the loss) agrees to better than ``1e-7``.

    The central difference itself adds :math:`O(h^2)` truncation (``h = 1e-4``)
    and :math:`O(\\epsilon / h)` rounding error, both far below the floor in
    float64. float32 networks are differentiated numerically on float64
    copies, so their backprop gradient carries float32 rounding
    (about ``1e-7`` relative) on top.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> rng = np.random.default_rng(0)
    >>> net = dlcore.TwoLayerNet(4, 5, 3, weight_init_std=1.0, seed=0)
    >>> x, t = dlcore.asarray(rng.standard_normal((8, 4))), dlcore.asarray(np.arange(8) % 3)
    >>> diff = dlcore.gradient_check(net, x, t)
    >>> sorted(diff), max(d["max"] for d in diff.values()) < 1e-6
    (['W1', 'W2', 'b1', 'b2'], True)
    """
    grad_backprop = net.gradient(x, t)
    grad_numerical = net.numerical_gradient(x, t)
    missing = sorted(set(grad_backprop) ^ set(grad_numerical))
    if missing:
        msg = f"backprop and numerical gradients have different keys: {missing}"
        raise ValueError(msg)
    out: dict[str, dict[str, float]] = {}
    for key in grad_backprop:
        a, b = grad_backprop[key], grad_numerical[key]
        xp = namespace(a, b)
        diff = xp.abs(a - b)
        out[key] = {"mean": float(xp.mean(diff)), "max": float(xp.max(diff))}
    return out
