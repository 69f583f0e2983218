"""Chapter 3, activation functions: step, sigmoid, ReLU and their relatives, with derivatives.
===========================================================================================

Book sections 3.2.1-3.2.7 (step function, sigmoid, their comparison, why the
activation must be non-linear, ReLU), plus the activations used since the
book: tanh, Leaky ReLU / PReLU, ELU and SELU (seed 003), and the derivative
of softmax (its Jacobian). Each derivative (``*_grad``) is checked against
:func:`dlcore.numerical_diff`. From seed 001: ``step_function(1)`` on a
number, the sigmoid drawn with steps 0.1, 1 and 2, why the plotted step
function looks joined at 0, S(x) = 1 - S(-x), and the sigmoid of a whole
array at once (broadcasting). From seed 003: its SELU(x; alpha) next to
the self-normalising SELU of PyTorch and Keras.

    python examples/ch03_activations.py [--backend numba] [--out figures] [--quick] [--lang ko]

Figures: ch03_activations.png (every function with its derivative),
ch03_step_vs_sigmoid.png (the book's figure 3-8), ch03_sigmoid_steps.png
(the sigmoid at steps 0.1, 1, 2), ch03_step_joined.png (the sampled points
of the step function and the line drawn through them).
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


def seed_001(s: Session) -> None:
    """Seed 001's experiments with the step function and the sigmoid."""
    xp = s.xp
    print(f"print(step_function(1)): {int(dl.to_numpy(dl.step_function(s.array(1.0))))}")
    print(
        s.t(
            "(the seed's y.astype(np.int) fails on NumPy >= 1.24, where np.int was removed:\n"
            " write y.astype(int); dlcore returns the input's float dtype)",
            "(시드의 y.astype(np.int)는 np.int가 삭제된 NumPy 1.24 이상에서 오류:\n"
            " y.astype(int)로 쓴다; dlcore는 입력의 float dtype을 돌려준다)",
        )
    )
    v = s.array(np.array([1.0, 2.0, 3.0]))
    s.show(
        s.t("sigmoid([1.0, 2.0, 3.0]), element by element", "sigmoid([1.0, 2.0, 3.0]), 원소별"),
        dl.sigmoid(v),
    )
    for step in (0.1, 1.0, 2.0):
        x = s.array(np.arange(-5.0, 5.0, step))
        print(
            s.t(
                f"np.arange(-5.0, 5.0, {step:g}): {int(x.shape[0])} points",
                f"np.arange(-5.0, 5.0, {step:g}): 점 {int(x.shape[0])}개",
            )
        )
    x2 = s.array(np.arange(-5.0, 5.0, 2))
    s.show("x = np.arange(-5.0, 5.0, 2)", x2)
    s.show("sigmoid(x)", dl.sigmoid(x2))
    x = np.arange(-5.0, 5.0, 0.1)
    y = dl.to_numpy(dl.step_function(s.array(x)))
    i = int(np.argmax(y > 0))  # the first sample that is 1
    print(
        s.t(
            f"step function sampled at step 0.1: ({x[i - 1]:.2g}, {y[i - 1]:g}) then "
            f"({x[i]:.2g}, {y[i]:g});\nplt.plot joins the points with straight lines, so a "
            "segment from 0 to 1 is drawn there:\nthe jump is not in the function, it is between "
            "two samples (drawstyle='steps-post' shows it as a step).",
            f"간격 0.1로 찍은 계단 함수: ({x[i - 1]:.2g}, {y[i - 1]:g}) 다음 "
            f"({x[i]:.2g}, {y[i]:g});\n"
            "plt.plot은 점을 직선으로 잇기 때문에 그 사이에 0에서 1로 가는 선이 "
            "그려진다:\n연결선은 함수가 아니라 두 표본 사이에 있다 "
            "(drawstyle='steps-post'는 계단으로 그린다).",
        )
    )
    g = s.array(np.linspace(-10.0, 10.0, 201))
    diff = float(xp.max(xp.abs(dl.sigmoid(g) - (1 - dl.sigmoid(-g)))))
    alt = float(xp.max(xp.abs(dl.sigmoid(g) - xp.exp(g) / (xp.exp(g) + 1))))
    print(f"max |S(x) - (1 - S(-x))| {s.t('on [-10, 10]', '([-10, 10]에서)')}: {diff:.1e}")
    print(f"max |S(x) - e^x / (e^x + 1)| {s.t('on [-10, 10]', '([-10, 10]에서)')}: {alt:.1e}")


def seed_003(s: Session) -> None:
    """Seed 003's SELU(x; alpha) against the self-normalising SELU, and softmax's derivative."""
    x = s.array(np.array([-1.0, 1.0]))
    s.show(
        s.t(
            "selu(x) (PyTorch/Keras: scale 1.0507, alpha 1.6733)",
            "selu(x) (PyTorch/Keras: scale 1.0507, alpha 1.6733)",
        ),
        dl.selu(x),
    )
    s.show(
        s.t(
            "seed 003's SELU(x; alpha=1.6733) = selu(x, scale=1.0)",
            "시드 003의 SELU(x; alpha=1.6733) = selu(x, scale=1.0)",
        ),
        dl.selu(x, scale=1.0),
    )
    s.show("elu(x, alpha=1.0)", dl.elu(x))
    s.show("leaky_relu(x) = max(0.01x, x)", dl.leaky_relu(x))
    a = s.array(np.array([0.3, 2.9, 4.0]))
    jac = dl.softmax_jacobian(a)
    s.show(
        s.t("softmax Jacobian at a = [0.3, 2.9, 4.0]", "a = [0.3, 2.9, 4.0]에서 softmax 야코비안"),
        jac,
    )
    s.show(s.t("its rows sum to", "행의 합"), s.xp.sum(jac, axis=-1))


def linear_collapse(s: Session) -> None:
    """h(x) = c*x stacked three times is y = c**3 * x: one linear layer, no depth gained."""
    c = 2.0
    x = s.array(np.array([-2.0, -1.0, 0.0, 1.0, 2.0]))

    def h(v: Any) -> Any:
        return c * v

    y = h(h(h(x)))
    s.show(s.t("x for the linear h", "선형 h의 입력 x"), x)
    s.show(s.t("h(h(h(x))) with h(x) = 2x", "h(x) = 2x일 때 h(h(h(x)))"), y)
    s.show("c**3 * x", c**3 * x)
    print(f"max |h(h(h(x))) - c**3 x|: {float(s.xp.max(s.xp.abs(y - c**3 * x)))!r}")
    # The same with matrices: three linear layers W1, W2, W3 equal one layer W1 @ W2 @ W3.
    rng = np.random.default_rng(0)
    w1, w2, w3 = (s.array(rng.standard_normal((4, 4))) for _ in range(3))
    xb = s.array(rng.standard_normal((5, 4)))
    three = ((xb @ w1) @ w2) @ w3
    one = xb @ (w1 @ w2 @ w3)
    d = float(s.xp.max(s.xp.abs(three - one)))
    print(
        s.t(
            f"three linear layers vs the single layer W1 @ W2 @ W3: max difference {d:.1e} "
            "(rounding only)",
            f"선형 층 세 개 vs 층 하나 W1 @ W2 @ W3: 최대 차이 {d:.1e} (반올림 오차뿐)",
        )
    )
    # A non-linear h does not collapse: sigmoid(sigmoid(sigmoid(x))) is not a*x + b.
    z = dl.sigmoid(dl.sigmoid(dl.sigmoid(x)))
    slopes = dl.to_numpy(z[1:] - z[:-1])
    s.show(s.t("sigmoid three times", "시그모이드 세 번"), z)
    lo, hi = f"{slopes.min():.4f}", f"{slopes.max():.4f}"
    print(
        s.t(
            f"its slopes between neighbours differ ({lo} .. {hi}): not a line",
            f"이웃한 점 사이 기울기가 다르다 ({lo} .. {hi}): 직선이 아니다",
        )
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
    fig.suptitle(
        s.tf(
            "Activation functions (solid) and their derivatives (dashed)",
            "활성화 함수(실선)와 도함수(점선)",
        )
    )
    fig.tight_layout()
    s.save(fig, "ch03_activations.png")


def plot_step_vs_sigmoid(s: Session, n: int) -> None:
    plt = s.plt
    if plt is None:
        return
    xs = np.linspace(-5.0, 5.0, n)
    x = s.array(xs)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(xs, dl.to_numpy(dl.sigmoid(x)), label=s.tf("sigmoid", "시그모이드"))
    ax.plot(xs, dl.to_numpy(dl.step_function(x)), "k--", label=s.tf("step function", "계단 함수"))
    title = s.tf("Step function vs sigmoid", "계단 함수와 시그모이드")
    ax.set(xlabel=s.tf("x", "입력 x"), ylabel="h(x)", ylim=(-0.1, 1.1), title=title)
    ax.legend()
    ax.grid(alpha=0.3)
    s.save(fig, "ch03_step_vs_sigmoid.png")


def plot_sigmoid_steps(s: Session) -> None:
    """Seed 001: the same sigmoid sampled every 0.1, 1 and 2, joined by straight lines."""
    plt = s.plt
    if plt is None:
        return
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4), sharey=True)
    for ax, step in zip(axes, (0.1, 1.0, 2.0), strict=True):
        xs = np.arange(-5.0, 5.0, step)
        ax.plot(xs, dl.to_numpy(dl.sigmoid(s.array(xs))), "o-", ms=3)
        ax.set(title=s.tf(f"np.arange(-5, 5, {step:g}): {xs.size} points",
                          f"np.arange(-5, 5, {step:g}): 점 {xs.size}개"), xlabel="x")  # fmt: skip
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("sigmoid(x)")
    fig.suptitle(s.tf("Fewer samples, straighter pieces: the plot only joins the points",
                      "표본이 적을수록 선분이 드러난다: 그래프는 점을 이을 뿐"))  # fmt: skip
    fig.tight_layout()
    s.save(fig, "ch03_sigmoid_steps.png")


def plot_step_joined(s: Session) -> None:
    """Seed 001: why the plotted step function is joined at 0."""
    plt = s.plt
    if plt is None:
        return
    xs = np.arange(-1.0, 1.0, 0.1)
    ys = dl.to_numpy(dl.step_function(s.array(xs)))
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    ax.plot(
        xs,
        ys,
        "-",
        color="tab:blue",
        lw=1.5,
        label=s.tf("plt.plot: points joined", "plt.plot: 점을 직선으로 연결"),
    )
    ax.plot(xs, ys + 0.03, drawstyle="steps-post", color="tab:orange",
            label=s.tf("drawstyle='steps-post'", "drawstyle='steps-post' (계단)"))  # fmt: skip
    ax.plot(xs, ys, "ko", ms=4, label=s.tf("the sampled points", "계산한 점"))
    ax.set(xlabel="x", ylabel="step_function(x)", ylim=(-0.15, 1.2),
           title=s.tf("The slanted segment joins two samples, 0.1 apart",
                      "기울어진 선분은 0.1 떨어진 두 표본을 잇는 선"))  # fmt: skip
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    s.save(fig, "ch03_step_joined.png")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, argv)
    with session(args, "ch03 activations", "3장 활성화 함수") as s:
        s.section(
            s.t(
                "Step function vs sigmoid (book 3.2.2-3.2.5)",
                "계단 함수와 시그모이드 (책 3.2.2-3.2.5)",
            )
        )
        x = s.array(np.array([-1.0, 1.0, 2.0]))
        s.show("x", x)
        s.show("step_function(x)", dl.step_function(x))
        s.show("sigmoid(x)", dl.sigmoid(x))
        s.show("relu(x)", dl.relu(x))
        print(
            s.t(
                "Both are 0 for very negative x and 1 for large x; the sigmoid is smooth, so a "
                "small\nchange of the weights changes the output a little (and its derivative is "
                "never 0),\nwhile the step jumps (its derivative is 0 almost everywhere: nothing "
                "to learn from).",
                "둘 다 x가 아주 작으면 0, 크면 1에 가깝다. 시그모이드는 매끄러워서 가중치를 조금\n"
                "바꾸면 출력도 조금 바뀌고 (도함수가 0이 되지 않는다), 계단 함수는 뛰어오른다\n"
                "(도함수가 거의 모든 곳에서 0: 배울 것이 없다).",
            )
        )
        s.show("sigmoid_grad(x)", dl.sigmoid_grad(x))
        s.show("step_function_grad(x)", dl.step_function_grad(x))

        s.section(s.t("The seed's experiments (seed 001)", "시드 001의 실험"))
        seed_001(s)

        s.section(s.t("Derivatives vs the central difference", "도함수와 중앙 차분 비교"))
        check_derivatives(s)

        s.section(
            s.t(
                "Seed 003: two SELUs, and softmax's derivative",
                "시드 003: 두 가지 SELU, softmax의 도함수",
            )
        )
        seed_003(s)

        s.section(
            s.t(
                "Why the activation must be non-linear (book 3.2.6)",
                "활성화 함수가 비선형이어야 하는 이유 (책 3.2.6)",
            )
        )
        linear_collapse(s)

        n = 201 if s.quick else 1001
        plot_all(s, n)
        plot_step_vs_sigmoid(s, n)
        plot_sigmoid_steps(s)
        plot_step_joined(s)
    return 0


if __name__ == "__main__":
    # No SystemExit on success, so the docs gallery (sphinx-gallery) can run the script too.
    if status := main():
        raise SystemExit(status)
