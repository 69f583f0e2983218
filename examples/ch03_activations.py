"""Chapter 3, activation functions: step, sigmoid, ReLU and their relatives, with derivatives.

Book sections 3.2.1-3.2.7 (step function, sigmoid, their comparison, why the
activation must be non-linear, ReLU), plus the activations used since the
book: tanh, Leaky ReLU / PReLU, ELU and SELU. Each derivative (``*_grad``)
is checked against :func:`dlcore.numerical_diff`.

    python examples/ch03_activations.py [--backend numba] [--out figures] [--quick]

Figures: ch03_activations.png (every function with its derivative),
ch03_step_vs_sigmoid.png (the book's figure 3-8).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from _common import Session, parse_args, session

import dlcore as dl

Fn = Callable[[Any], Any]


def activations() -> dict[str, tuple[Fn, Fn]]:
    """Name -> (function, derivative). Leaky ReLU uses alpha=0.1 and PReLU a=0.25 to be visible."""
    return {
        "step": (dl.step_function, dl.step_function_grad),
        "sigmoid": (dl.sigmoid, dl.sigmoid_grad),
        "ReLU": (dl.relu, dl.relu_grad),
        "tanh": (dl.tanh, dl.tanh_grad),
        "Leaky ReLU (alpha=0.1)": (
            lambda x: dl.leaky_relu(x, alpha=0.1),
            lambda x: dl.leaky_relu_grad(x, alpha=0.1),
        ),
        "PReLU (a=0.25)": (lambda x: dl.prelu(x, 0.25), lambda x: dl.prelu_grad(x, 0.25)[0]),
        "ELU (alpha=1)": (dl.elu, dl.elu_grad),
        "SELU": (dl.selu, dl.selu_grad),
    }


def check_derivatives(s: Session) -> None:
    """Compare each ``*_grad`` with the central difference away from the kink at 0."""
    x = s.array(np.array([-3.0, -1.5, -0.5, 0.5, 1.5, 3.0]))
    for name, (f, fgrad) in activations().items():
        analytic = fgrad(x)
        numeric = dl.numerical_diff(f, x)
        diff = float(s.xp.max(s.xp.abs(analytic - numeric)))
        print(f"{name:24s} max |grad - numerical_diff| = {diff:.1e}")


def linear_collapse(s: Session) -> None:
    """h(x) = c*x stacked three times is y = c**3 * x: one linear layer, no depth gained."""
    c = 2.0
    x = s.array(np.array([-2.0, -1.0, 0.0, 1.0, 2.0]))

    def h(v: Any) -> Any:
        return c * v

    y = h(h(h(x)))
    s.show("x for the linear h", x)
    s.show("h(h(h(x))) with h(x) = 2x", y)
    s.show("c**3 * x", c**3 * x)
    print(f"max |h(h(h(x))) - c**3 x|: {float(s.xp.max(s.xp.abs(y - c**3 * x)))!r}")
    # The same with matrices: three linear layers W1, W2, W3 equal one layer W1 @ W2 @ W3.
    rng = np.random.default_rng(0)
    w1, w2, w3 = (s.array(rng.standard_normal((4, 4))) for _ in range(3))
    xb = s.array(rng.standard_normal((5, 4)))
    three = ((xb @ w1) @ w2) @ w3
    one = xb @ (w1 @ w2 @ w3)
    print(
        "three linear layers vs the single layer W1 @ W2 @ W3: max difference "
        f"{float(s.xp.max(s.xp.abs(three - one))):.1e} (rounding only)"
    )
    # A non-linear h does not collapse: sigmoid(sigmoid(sigmoid(x))) is not a*x + b.
    z = dl.sigmoid(dl.sigmoid(dl.sigmoid(x)))
    slopes = dl.to_numpy(z[1:] - z[:-1])
    s.show("sigmoid three times", z)
    print(
        f"its slopes between neighbours differ ({slopes.min():.4f} .. {slopes.max():.4f}): "
        "not a line"
    )


def plot_all(s: Session, n: int) -> None:
    plt = s.plt
    if plt is None:
        return
    xs = np.linspace(-5.0, 5.0, n)
    x = s.array(xs)
    fig, axes = plt.subplots(2, 4, figsize=(14, 6.5), sharex=True)
    for ax, (name, (f, fgrad)) in zip(axes.ravel(), activations().items(), strict=True):
        ax.axhline(0, color="0.7", lw=0.8)
        ax.axvline(0, color="0.7", lw=0.8)
        ax.plot(xs, dl.to_numpy(f(x)), lw=2, label="h(x)")
        ax.plot(xs, dl.to_numpy(fgrad(x)), "--", lw=1.5, label="h'(x)")
        ax.set_title(name)
        ax.set_ylim(-2.0, 3.0)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("x")
    axes[0, 0].legend(loc="upper left")
    fig.suptitle("Activation functions (solid) and their derivatives (dashed)")
    fig.tight_layout()
    s.save(fig, "ch03_activations.png")


def plot_step_vs_sigmoid(s: Session, n: int) -> None:
    plt = s.plt
    if plt is None:
        return
    xs = np.linspace(-5.0, 5.0, n)
    x = s.array(xs)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(xs, dl.to_numpy(dl.sigmoid(x)), label="sigmoid")
    ax.plot(xs, dl.to_numpy(dl.step_function(x)), "k--", label="step function")
    ax.set(xlabel="x", ylabel="h(x)", ylim=(-0.1, 1.1), title="Step function vs sigmoid")
    ax.legend()
    ax.grid(alpha=0.3)
    s.save(fig, "ch03_step_vs_sigmoid.png")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, argv)
    with session(args, "ch03 activations") as s:
        s.section("Step function vs sigmoid (book 3.2.2-3.2.5)")
        x = s.array(np.array([-1.0, 1.0, 2.0]))
        s.show("x", x)
        s.show("step_function(x)", dl.step_function(x))
        s.show("sigmoid(x)", dl.sigmoid(x))
        s.show("relu(x)", dl.relu(x))
        print(
            "Both are 0 for very negative x and 1 for large x; the sigmoid is smooth, so a small\n"
            "change of the weights changes the output a little (and its derivative is never 0),\n"
            "while the step jumps (its derivative is 0 almost everywhere: nothing to learn from)."
        )
        s.show("sigmoid_grad(x)", dl.sigmoid_grad(x))
        s.show("step_function_grad(x)", dl.step_function_grad(x))

        s.section("Derivatives vs the central difference")
        check_derivatives(s)

        s.section("Why the activation must be non-linear (book 3.2.6)")
        linear_collapse(s)

        n = 201 if s.quick else 1001
        plot_all(s, n)
        plot_step_vs_sigmoid(s, n)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
