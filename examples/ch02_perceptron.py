"""Chapter 2, perceptrons: AND, NAND and OR gates, their decision lines, and XOR from two layers.

Book sections 2.3 (simple logic gates with weights and bias), 2.4 (the
limits of a perceptron: XOR is not linearly separable) and 2.5 (a
multi-layer perceptron computes XOR as AND(NAND, OR)).

    python examples/ch02_perceptron.py [--backend numba] [--out figures] [--quick]

Figures: ch02_gates.png (the three gates' decision lines),
ch02_xor.png (XOR: the two lines of the NAND/OR layer).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from _common import Session, parse_args, session

import dlcore as dl

#: The book's weights and biases (section 2.3.3).
GATES: dict[str, tuple[tuple[float, float], float]] = {
    "AND": ((0.5, 0.5), -0.7),
    "NAND": ((-0.5, -0.5), 0.7),
    "OR": ((0.5, 0.5), -0.2),
}
#: The four inputs in the book's order.
INPUTS = [(0, 0), (1, 0), (0, 1), (1, 1)]
TARGETS = {"AND": [0, 0, 0, 1], "NAND": [1, 1, 1, 0], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0]}


def truth_table(s: Session, name: str, gate: Any) -> Any:
    """Print a gate's truth table (computed on the backend, all four inputs at once)."""
    x1 = s.array([a for a, _ in INPUTS], dtype="int64")
    x2 = s.array([b for _, b in INPUTS], dtype="int64")
    y = gate(x1, x2)
    print(f"x1 x2 | {name}")
    for (a, b), v in zip(INPUTS, dl.to_numpy(y).tolist(), strict=True):
        print(f" {a}  {b} | {v}")
    s.show(f"{name} outputs for (0,0),(1,0),(0,1),(1,1)", y)
    return y


def count_separating_lines(s: Session, n: int) -> dict[str, int]:
    """Try n**3 perceptrons (w1, w2, b on a grid in [-1, 1]); count those that compute each gate.

    A perceptron is one straight line ``w1*x1 + w2*x2 + b = 0``: the search
    finds many lines for AND, NAND and OR, and none for XOR.
    """
    xp = s.xp
    grid = np.linspace(-1.0, 1.0, n)
    w1, w2, b = (g.ravel() for g in np.meshgrid(grid, grid, grid, indexing="ij"))
    w = s.array(np.stack([w1, w2]))  # (2, n**3)
    bias = s.array(b)
    x = s.array(np.array(INPUTS, dtype=np.float64))  # (4, 2)
    fires = (x @ w + bias) > 0  # (4, n**3): the output of every perceptron on every input
    counts = {}
    for name, target in TARGETS.items():
        t = s.array(np.array(target, dtype=bool)[:, None])
        ok = xp.all(fires == t, axis=0)
        counts[name] = int(xp.sum(xp.astype(ok, xp.int64)))
    return counts


def plot_gates(s: Session) -> None:
    plt = s.plt
    if plt is None:
        return
    xs = np.linspace(-0.5, 1.5, 201)
    g1, g2 = np.meshgrid(xs, xs)
    fig, axes = plt.subplots(1, 3, figsize=(12, 4), sharey=True)
    for ax, (name, (w, b)) in zip(axes, GATES.items(), strict=True):
        p = dl.Perceptron(w, b)
        region = dl.to_numpy(p(s.array(g1), s.array(g2)))  # the perceptron's output everywhere
        ax.contourf(g1, g2, region, levels=[-0.5, 0.5, 1.5], colors=["#f4f4f4", "#cfe3f7"])
        ax.plot(xs, -(w[0] * xs + b) / w[1], "k-", lw=1.5, label="w1·x1 + w2·x2 + b = 0")
        _scatter_inputs(ax, TARGETS[name])
        ax.set(title=f"{name}: w = {w}, b = {b}", xlabel="x1", xlim=(-0.5, 1.5), ylim=(-0.5, 1.5))
        ax.set_aspect("equal")
    axes[0].set_ylabel("x2")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, bbox_to_anchor=(0.5, -0.06))
    fig.suptitle("One perceptron = one straight line (shaded: output 1)")
    s.save(fig, "ch02_gates.png")


def plot_xor(s: Session) -> None:
    plt = s.plt
    if plt is None:
        return
    xs = np.linspace(-0.5, 1.5, 201)
    g1, g2 = np.meshgrid(xs, xs)
    # dl.XOR accepts only 0/1: draw its two-layer region from the same perceptrons on a grid.
    x1, x2 = s.array(g1), s.array(g2)
    nand = dl.Perceptron(*GATES["NAND"])(x1, x2)
    or_ = dl.Perceptron(*GATES["OR"])(x1, x2)
    region = dl.to_numpy(dl.Perceptron(*GATES["AND"])(nand, or_))
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.contourf(g1, g2, region, levels=[-0.5, 0.5, 1.5], colors=["#f4f4f4", "#cfe3f7"])
    for name, style in (("NAND", "r--"), ("OR", "g-.")):
        w, b = GATES[name]
        ax.plot(xs, -(w[0] * xs + b) / w[1], style, lw=1.5, label=f"{name} line")
    _scatter_inputs(ax, TARGETS["XOR"])
    ax.set(
        title="XOR = AND(NAND, OR): two lines, a band (shaded: 1)",
        xlabel="x1",
        ylabel="x2",
        xlim=(-0.5, 1.5),
        ylim=(-0.5, 1.5),
    )
    ax.set_aspect("equal")
    ax.legend(loc="lower left", fontsize=8)
    s.save(fig, "ch02_xor.png")


def _scatter_inputs(ax: Any, target: list[int]) -> None:
    pts = np.array(INPUTS)
    t = np.array(target)
    ax.scatter(*pts[t == 0].T, marker="o", s=80, c="white", edgecolors="k", label="output 0")
    ax.scatter(*pts[t == 1].T, marker="^", s=90, c="tab:blue", edgecolors="k", label="output 1")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, argv)
    with session(args, "ch02 perceptron") as s:
        s.section("Gates as perceptrons: y = 1 if w1*x1 + w2*x2 + b > 0 else 0")
        for name, (w, b) in GATES.items():
            p = dl.Perceptron(w, b)
            print(f"{name}: {p!r}")
            truth_table(s, name, p)
            library = {"AND": dl.AND, "NAND": dl.NAND, "OR": dl.OR}[name]
            same = [library(a, b2) for a, b2 in INPUTS] == TARGETS[name]
            print(f"dl.{name} agrees with the table: {same}")

        s.section("Why one perceptron cannot compute XOR")
        print(
            "XOR needs b <= 0 (for (0,0)), w1 + b > 0 and w2 + b > 0 (for (1,0), (0,1)) and\n"
            "w1 + w2 + b <= 0 (for (1,1)). Adding the middle two gives w1 + w2 + b > -b >= 0,\n"
            "which contradicts the last one: no straight line puts (1,0), (0,1) on one side\n"
            "and (0,0), (1,1) on the other."
        )
        n = 21 if s.quick else 61
        counts = count_separating_lines(s, n)
        print(f"Searching {n**3} perceptrons (w1, w2, b on a {n}-point grid in [-1, 1]):")
        for name, c in counts.items():
            print(f"perceptrons that compute {name}: {c}")

        s.section("XOR with two layers: s1 = NAND(x1, x2), s2 = OR(x1, x2), y = AND(s1, s2)")
        print("x1 x2 | s1 s2 | y")
        for a, b in INPUTS:
            s1, s2 = dl.NAND(a, b), dl.OR(a, b)
            print(f" {a}  {b} |  {s1}  {s2} | {dl.AND(s1, s2)}")
        truth_table(s, "XOR", dl.XOR)

        plot_gates(s)
        plot_xor(s)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
