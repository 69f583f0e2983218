"""Chapter 3, arrays and the 3-layer network: shapes, broadcasting, forward pass, softmax.

Book sections 1.5.5 (broadcasting), 3.3 (multidimensional arrays and the
matrix product), 3.4 (the 3-layer network's forward pass, whose output for
x = [1.0, 0.5] is [0.31682708 0.69627909]) and 3.5 (identity vs softmax output,
and why softmax subtracts the maximum: exp(1010) overflows).

    python examples/ch03_network.py [--backend numba] [--out figures] [--quick]

Figure: ch03_identity_vs_softmax.png (scores and the probabilities softmax makes of them).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from _common import Session, parse_args, session

import dlcore as dl

#: The book's 3-layer demo weights (section 3.4.3, ``init_network``).
BOOK_WEIGHTS = {
    "W1": [[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]],
    "b1": [0.1, 0.2, 0.3],
    "W2": [[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]],
    "b2": [0.1, 0.2],
    "W3": [[0.1, 0.3], [0.2, 0.4]],
    "b3": [0.1, 0.2],
}


def shapes_and_products(s: Session) -> None:
    a = s.array([[1, 2], [3, 4]])
    b = s.array([[5, 6], [7, 8]])
    print(f"A.shape = {tuple(a.shape)}, B.shape = {tuple(b.shape)}")
    s.show("A @ B", a @ b)
    a = s.array([[1, 2, 3], [4, 5, 6]])
    b = s.array([[1, 2], [3, 4], [5, 6]])
    print(f"A.shape = {tuple(a.shape)}, B.shape = {tuple(b.shape)}")
    s.show("A @ B (2x3 @ 3x2 -> 2x2)", a @ b)
    c = s.array([[1, 2], [3, 4]])
    try:
        a @ c
    except (ValueError, TypeError, RuntimeError) as exc:  # torch raises RuntimeError
        print(f"A @ C with shapes (2, 3) @ (2, 2) fails: {type(exc).__name__}: {exc}")
    x = s.array([1, 2])
    w = s.array([[1, 3, 5], [2, 4, 6]])
    print(f"X.shape = {tuple(x.shape)}, W.shape = {tuple(w.shape)}: the inner sizes must agree")
    s.show("Y = X @ W", x @ w)


def broadcasting(s: Session) -> None:
    a = s.array([[1, 2], [3, 4]])
    s.show("A * 10 (the scalar is stretched to A's shape)", a * 10)
    s.show("A * [10, 20] (the row is repeated for each row of A)", a * s.array([10, 20]))
    s.show("A + b with b of shape (2,): the bias of a layer", a + s.array([100, 200]))


def forward_by_hand(s: Session, x: Any) -> Any:
    """The book's forward(): three affine layers, sigmoid between them, identity at the end."""
    w = {k: s.array(v) for k, v in BOOK_WEIGHTS.items()}
    a1 = x @ w["W1"] + w["b1"]
    z1 = dl.sigmoid(a1)
    print(f"layer 1: x {tuple(x.shape)} @ W1 {tuple(w['W1'].shape)} + b1 -> A1 {tuple(a1.shape)}")
    s.show("A1", a1)
    s.show("Z1 = sigmoid(A1)", z1)
    a2 = z1 @ w["W2"] + w["b2"]
    z2 = dl.sigmoid(a2)
    print(f"layer 2: Z1 {tuple(z1.shape)} @ W2 {tuple(w['W2'].shape)} + b2 -> A2 {tuple(a2.shape)}")
    s.show("A2", a2)
    s.show("Z2 = sigmoid(A2)", z2)
    a3 = z2 @ w["W3"] + w["b3"]
    print(f"layer 3: Z2 {tuple(z2.shape)} @ W3 {tuple(w['W3'].shape)} + b3 -> A3 {tuple(a3.shape)}")
    return dl.identity_function(a3)


def naive_softmax(s: Session, a: Any) -> Any:
    """The book's first softmax: exp(a) / sum(exp(a)), without the max shift."""
    exp_a = s.xp.exp(a)
    return exp_a / s.xp.sum(exp_a)


def softmax_overflow(s: Session) -> None:
    a = s.array(np.array([1010.0, 1000.0, 990.0]))
    s.show("a", a)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(over="warn", invalid="warn"):
            naive = naive_softmax(s, a)
    s.show("naive exp(a) / sum(exp(a))", naive)
    messages = sorted({str(w.message) for w in caught})
    if messages:
        kinds = sorted({w.category.__name__ for w in caught})
        print(f"(caught {', '.join(kinds)}: {'; '.join(messages)})")
    print(
        "exp(1010) is larger than the largest float64 (about 1.8e308, exp(709.8)), so it\n"
        "overflows to inf, and inf / inf is nan. Subtracting the maximum first changes nothing\n"
        "mathematically (softmax(a - C) = softmax(a)) but keeps every exp() at most 1:"
    )
    c = s.xp.max(a)
    s.show("a - max(a)", a - c)
    s.show("exp(a - max(a)) / sum(...)", naive_softmax(s, a - c))
    s.show("dl.softmax(a)", dl.softmax(a))


def plot_identity_vs_softmax(s: Session, a: Any, y: Any) -> None:
    plt = s.plt
    if plt is None:
        return
    a_np, y_np = dl.to_numpy(a), dl.to_numpy(y)
    idx = np.arange(a_np.size)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    axes[0].bar(idx, a_np, color="tab:gray")
    axes[0].set(title="identity output: the scores a", xlabel="class k", ylabel="a_k")
    axes[1].bar(idx, y_np, color="tab:blue")
    for k, v in zip(idx, y_np, strict=True):
        axes[1].text(k, v + 0.02, f"{v:.3f}", ha="center")
    axes[1].set(
        title="softmax output: probabilities (sum 1)",
        xlabel="class k",
        ylabel="y_k = exp(a_k) / sum exp(a_i)",
        ylim=(0, 1),
    )
    for ax in axes:
        ax.set_xticks(idx)
    fig.tight_layout()
    s.save(fig, "ch03_identity_vs_softmax.png")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, argv)
    with session(args, "ch03 arrays and the 3-layer network") as s:
        s.section("Matrix shapes and products (book 3.3)")
        shapes_and_products(s)

        s.section("Broadcasting (book 1.5.5)")
        broadcasting(s)

        s.section("The 3-layer network's forward pass (book 3.4.3)")
        x = s.array(np.array([1.0, 0.5]))
        y = forward_by_hand(s, x)
        s.show("forward pass, y", y)
        network = dl.init_network()  # the same weights, on the active backend
        s.show("dl.forward(dl.init_network(), x)", dl.forward(network, x))
        batch = s.array(np.array([[1.0, 0.5], [1.0, 0.5], [0.0, 0.0]]))
        s.show("a batch of 3 inputs, dl.forward", dl.forward(network, batch))

        s.section("Identity vs softmax output (book 3.5.1)")
        a = s.array(np.array([0.3, 2.9, 4.0]))
        s.show("a", a)
        s.show("identity_function(a)", dl.identity_function(a))
        p = dl.softmax(a)
        s.show("softmax(a)", p)
        s.show("sum(softmax(a))", s.xp.sum(p))
        print("softmax keeps the order (argmax is unchanged), so inference can skip it.")

        s.section("Softmax overflow (book 3.5.2)")
        softmax_overflow(s)

        plot_identity_vs_softmax(s, a, p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
