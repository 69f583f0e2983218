"""Cases for the backend's hot-loop methods, called directly with validated inputs."""

from __future__ import annotations

import numpy as np

from . import _reference as ref
from ._cases_networks import network
from ._checker import Checker, case


@case("kernel bind_predict")
def _bind_predict(ck: Checker) -> None:
    for activation in ("sigmoid", "relu"):
        arrays = network(ck)
        placed = [ck.put(a) for a in arrays]
        run = ck.backend.bind_predict(placed, activation=activation)
        for rows in (1, 3, 64, 65, 300):  # single images, and batches on both sides of kernels
            x = ck.data(rows, arrays[0].shape[0])
            want = ref.forward(arrays, x, activation)
            ck.same(f"bind_predict {activation} ({rows} rows)", run(placed, ck.put(x)), want)
        x1 = ck.data(arrays[0].shape[0])
        want1 = ref.forward(arrays, x1, activation)
        ck.same(f"bind_predict {activation} (one 1-D image)", run(placed, ck.put(x1)), want1)


@case("kernel mlp_gradient")
def _mlp_gradient(ck: Checker) -> None:
    for activation in ("sigmoid", "relu"):
        arrays = network(ck, (5, 4, 3))
        x, labels = ck.data(6, 5), ck.labels(6, 3)
        want = ref.backprop(arrays, x, ref.one_hot(labels, 3), activation)
        placed = [ck.put(a) for a in arrays]
        for kind, t in (("labels", ck.put(labels)), ("one-hot", ck.put(ref.one_hot(labels, 3)))):
            got = ck.backend.mlp_gradient(placed, ck.put(x), t, activation=activation)
            for i, (g, w) in enumerate(zip(got, want, strict=True)):
                ck.same(f"mlp_gradient {activation} {kind} [{i}]", g, w)


@case("kernel mlp_numerical_gradient")
def _mlp_numerical_gradient(ck: Checker) -> None:
    eps = float(np.finfo(ck.dtype or "float64").eps)
    for activation in ("sigmoid", "relu"):
        arrays = network(ck, (4, 3, 2))
        x, labels = ck.data(5, 4), ck.labels(5, 2)
        want = ref.mlp_numerical_gradient(arrays, x, ref.one_hot(labels, 2), activation)
        placed = [ck.put(a) for a in arrays]
        for max_bytes in (1 << 21, 256):  # one chunk, and the smallest chunks
            got = ck.backend.mlp_numerical_gradient(
                placed,
                ck.put(x),
                ck.put(labels),
                h=1e-4,
                activation=activation,
                max_bytes=max_bytes,
            )
            for i, (g, w) in enumerate(zip(got, want, strict=True)):
                ck.same(
                    f"mlp_numerical_gradient {activation} max_bytes={max_bytes} [{i}]",
                    g,
                    w,
                    rtol=max(1e-6, 4 * eps**0.5),
                )
