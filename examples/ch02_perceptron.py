"""Chapter 2, perceptrons: AND, NAND and OR gates, their decision lines, and XOR from two layers.
==============================================================================================

Book sections 2.3 (simple logic gates with weights and bias), 2.4 (the
limits of a perceptron: XOR is not linearly separable) and 2.5 (a
multi-layer perceptron computes XOR as AND(NAND, OR)); from the seeds, the
other parameters that make the same gates (seed 002: AND with (0.5, 0.5,
0.8) and (1, 1, 1), OR with theta = 0.3) and the two wrong ways to wire XOR
(seed 001: (AND, NAND) -> OR and (AND, OR) -> NAND).

    python examples/ch02_perceptron.py [--backend numba] [--out figures] [--quick] [--lang ko]

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
#: Seed 002: other (w1, w2, theta) that make the same gates; the bias is b = -theta.
OTHER_PARAMETERS = [
    ("AND", (0.5, 0.5, 0.8)),
    ("AND", (1.0, 1.0, 1.0)),
    ("OR", (0.5, 0.5, 0.3)),
]
#: Seed 001: the hidden pair and the output gate of each way to wire two layers.
WIRINGS = [("AND", "NAND", "OR"), ("AND", "OR", "NAND"), ("NAND", "OR", "AND")]


def truth_table(s: Session, name: str, gate: Any) -> Any:
    """Print a gate's truth table (computed on the backend, all four inputs at once)."""
    x1 = s.array([a for a, _ in INPUTS], dtype="int64")
    x2 = s.array([b for _, b in INPUTS], dtype="int64")
    y = gate(x1, x2)
    print(f"x1 x2 | {name}")  # the same in every language
    for (a, b), v in zip(INPUTS, dl.to_numpy(y).tolist(), strict=True):
        print(f" {a}  {b} | {v}")
    s.show(
        s.t(
            f"{name} outputs for (0,0),(1,0),(0,1),(1,1)", f"(0,0),(1,0),(0,1),(1,1)의 {name} 출력"
        ),
        y,
    )
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


def other_parameters(s: Session) -> None:
    """Seed 002: the same truth table from other weights and thresholds."""
    for name, (w1, w2, theta) in OTHER_PARAMETERS:
        p = dl.Perceptron((w1, w2), -theta)
        outputs = [int(v) for v in dl.to_numpy(p(s.array([0, 1, 0, 1]), s.array([0, 0, 1, 1])))]
        label = s.t("outputs for", "출력")
        print(f"{name} (w1, w2, θ) = ({w1}, {w2}, {theta}): {label} {outputs}")
        print(f"  {s.t('same as', '같은 표')} {name}: {outputs == TARGETS[name]}")


def wirings(s: Session) -> None:
    """Seed 001: only (NAND, OR) -> AND computes XOR; the other two wirings do not."""
    gates = {"AND": dl.AND, "NAND": dl.NAND, "OR": dl.OR}
    for first, second, out in WIRINGS:
        print(f"({first}, {second}) -> ({out}):")
        for i in np.array([[0, 0], [1, 0], [0, 1], [1, 1]]):
            a, b = int(i[0]), int(i[1])
            y = gates[out](gates[first](a, b), gates[second](a, b))
            print(str(i), "->", str(y))  # the seed's own loop and print
        table = [gates[out](gates[first](a, b), gates[second](a, b)) for a, b in INPUTS]
        verdict = (
            s.t("is XOR", "XOR이다") if table == TARGETS["XOR"] else s.t("not XOR", "XOR 아님")
        )
        print(f"  => {verdict}")


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
        _scatter_inputs(s, ax, TARGETS[name])
        ax.set(title=f"{name}: w = {w}, b = {b}", xlabel="x1", xlim=(-0.5, 1.5), ylim=(-0.5, 1.5))
        ax.set_aspect("equal")
    axes[0].set_ylabel("x2")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, bbox_to_anchor=(0.5, -0.06))
    fig.suptitle(
        s.tf(
            "One perceptron = one straight line (shaded: output 1)",
            "퍼셉트론 하나 = 직선 하나 (색칠한 영역: 출력 1)",
        )
    )
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
        ax.plot(
            xs, -(w[0] * xs + b) / w[1], style, lw=1.5, label=s.tf(f"{name} line", f"{name} 직선")
        )
    _scatter_inputs(s, ax, TARGETS["XOR"])
    ax.set(
        title=s.tf(
            "XOR = AND(NAND, OR): two lines, a band (shaded: 1)",
            "XOR = AND(NAND, OR): 직선 두 개 사이의 띠 (색칠: 1)",
        ),
        xlabel="x1",
        ylabel="x2",
        xlim=(-0.5, 1.5),
        ylim=(-0.5, 1.5),
    )
    ax.set_aspect("equal")
    ax.legend(loc="lower left", fontsize=8)
    s.save(fig, "ch02_xor.png")


def _scatter_inputs(s: Session, ax: Any, target: list[int]) -> None:
    pts = np.array(INPUTS)
    t = np.array(target)
    label0, label1 = s.tf("output 0", "출력 0"), s.tf("output 1", "출력 1")
    ax.scatter(*pts[t == 0].T, marker="o", s=80, c="white", edgecolors="k", label=label0)
    ax.scatter(*pts[t == 1].T, marker="^", s=90, c="tab:blue", edgecolors="k", label=label1)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, argv)
    with session(args, "ch02 perceptron", "2장 퍼셉트론") as s:
        s.section(
            s.t(
                "Gates as perceptrons: y = 1 if w1*x1 + w2*x2 + b > 0 else 0",
                "퍼셉트론으로 만든 게이트: w1*x1 + w2*x2 + b > 0 이면 y = 1, 아니면 0",
            )
        )
        for name, (w, b) in GATES.items():
            p = dl.Perceptron(w, b)
            print(f"{name}: {p!r}")
            truth_table(s, name, p)
            library = {"AND": dl.AND, "NAND": dl.NAND, "OR": dl.OR}[name]
            same = [library(a, b2) for a, b2 in INPUTS] == TARGETS[name]
            print(s.t(f"dl.{name} agrees with the table: {same}", f"dl.{name}와 표가 일치: {same}"))

        s.section(
            s.t(
                "Other parameters, the same gates (seed 002)",
                "다른 매개변수, 같은 게이트 (시드 002)",
            )
        )
        other_parameters(s)

        s.section(
            s.t("Why one perceptron cannot compute XOR", "퍼셉트론 하나로 XOR을 못 만드는 이유")
        )
        print(
            s.t(
                "XOR needs b <= 0 (for (0,0)), w1 + b > 0 and w2 + b > 0 (for (1,0), (0,1)) and\n"
                "w1 + w2 + b <= 0 (for (1,1)). Adding the middle two gives w1 + w2 + b > -b >= 0,\n"
                "which contradicts the last one: no straight line puts (1,0), (0,1) on one side\n"
                "and (0,0), (1,1) on the other.",
                "XOR에는 b <= 0 ((0,0)), w1 + b > 0, w2 + b > 0 ((1,0), (0,1)),\n"
                "w1 + w2 + b <= 0 ((1,1))이 필요하다. 가운데 둘을 더하면 w1 + w2 + b > -b >= 0 이\n"
                "되어 마지막 조건과 모순된다: (1,0), (0,1)을 한쪽에, (0,0), (1,1)을 다른 쪽에\n"
                "두는 직선은 없다.",
            )
        )
        n = 21 if s.quick else 61
        counts = count_separating_lines(s, n)
        print(
            s.t(
                f"Searching {n**3} perceptrons (w1, w2, b on a {n}-point grid in [-1, 1]):",
                f"퍼셉트론 {n**3}개 탐색 (w1, w2, b를 [-1, 1]의 {n}개 격자점에서):",
            )
        )
        for name, c in counts.items():
            print(s.t(f"perceptrons that compute {name}: {c}", f"{name}를 계산하는 퍼셉트론: {c}"))

        s.section(
            s.t(
                "XOR with two layers: s1 = NAND(x1, x2), s2 = OR(x1, x2), y = AND(s1, s2)",
                "2층으로 만든 XOR: s1 = NAND(x1, x2), s2 = OR(x1, x2), y = AND(s1, s2)",
            )
        )
        print("x1 x2 | s1 s2 | y")
        for a, b in INPUTS:
            s1, s2 = dl.NAND(a, b), dl.OR(a, b)
            print(f" {a}  {b} |  {s1}  {s2} | {dl.AND(s1, s2)}")
        truth_table(s, "XOR", dl.XOR)

        s.section(
            s.t(
                "Which gate goes where? The three wirings of seed 001",
                "어느 게이트를 어디에? 시드 001의 세 가지 조합",
            )
        )
        wirings(s)

        plot_gates(s)
        plot_xor(s)
    return 0


if __name__ == "__main__":
    # No SystemExit on success, so the docs gallery (sphinx-gallery) can run the script too.
    if status := main():
        raise SystemExit(status)
