"""Chapter 4, learning from data: losses, numerical derivatives, gradients, gradient descent.
==========================================================================================

Book sections 4.2 (sum of squared errors and cross-entropy on the book's
"2" example), 4.3 (numerical differentiation of 0.01x^2 + 0.1x and its
tangent lines), 4.4 (the gradient of x0^2 + x1^2 as a field of arrows,
gradient descent with a good, a too large and a too small learning rate,
and the gradient of simpleNet) and 4.5 (training TwoLayerNet on MNIST with
train/test accuracy per epoch).

Also from the seeds: ``mean_squared_error`` is the book's (and seed 002's and
004's) 0.5 * sum((y - t)**2), and the partial derivatives of x0^2 + x1^2 at
(3, 4) one variable at a time (the book's 6.00000000000378 and
7.999999999999119).

    python examples/ch04_learning.py [--backend numba] [--out figures] [--quick] [--lang ko]

``--quick`` trains on 1,000 images for 300 iterations; without it the
book's recipe runs (60,000 training images if they are cached - see
``dlcore data fetch`` - 10,000 iterations, batch 100, lr 0.1).

Figures: ch04_numerical_diff.png (function and tangent lines),
ch04_gradient_field.png (arrows of -grad f), ch04_gradient_descent.png
(paths for three learning rates), ch04_training.png (loss and accuracy curves).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from _common import Session, parse_args, session

import dlcore as dl

#: The book's example: the correct class is "2" (one-hot t), two candidate outputs y.
T_BOOK = [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
Y_GOOD = [0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]  # "2" is most likely
Y_BAD = [0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0]  # "7" is most likely
#: simpleNet's weights as printed in the book (section 4.4.2), fixed here instead of random.
SIMPLE_NET_W = [
    [0.47355232, 0.9977393, 0.84668094],
    [0.85557411, 0.03563661, 0.69422093],
]
#: Learning rates for gradient descent on x0^2 + x1^2 from (-3, 4), 100 steps (book 4.4.1).
LEARNING_RATES = {"good": 0.1, "too large": 10.0, "too small": 1e-10}


def function_1(x: Any) -> Any:
    """The book's y = 0.01 x^2 + 0.1 x."""
    return 0.01 * x**2 + 0.1 * x


def function_2(x: Any) -> Any:
    """The book's f(x0, x1) = x0^2 + x1^2."""
    return x[0] ** 2 + x[1] ** 2


def losses(s: Session) -> None:
    t = s.array(np.array(T_BOOK, dtype=np.float64))
    cases = (
        (s.t("'2' most likely", "'2'일 확률이 가장 높음"), Y_GOOD),
        (s.t("'7' most likely", "'7'일 확률이 가장 높음"), Y_BAD),
    )
    for label, y_list in cases:
        y = s.array(np.array(y_list))
        s.show(f"sum_squared_error, {label}", dl.sum_squared_error(y, t))
        s.show(f"mean_squared_error, {label}", dl.mean_squared_error(y, t))
        s.show(f"cross_entropy_error, {label}", dl.cross_entropy_error(y, t))
    print(
        s.t(
            "Both losses are smaller for the output that agrees with the label.\n"
            "mean_squared_error is the book's 0.5 * sum((y - t)**2), the same as "
            "sum_squared_error\n(PyTorch's MSELoss averages instead: mean((y - t)**2) = 0.0195).",
            "두 손실 모두 정답과 맞는 출력에서 더 작다.\n"
            "mean_squared_error는 책의 0.5 * sum((y - t)**2)로 sum_squared_error와 같다\n"
            "(PyTorch의 MSELoss는 평균: mean((y - t)**2) = 0.0195).",
        )
    )
    print(f"-log(0.6): {float(-np.log(0.6)):.2f}")


def numerical_diff(s: Session) -> list[tuple[float, float]]:
    tangents = []
    for x0 in (5.0, 10.0):
        d = dl.numerical_diff(function_1, x0)
        exact = s.t("exact", "해석적 값")
        print(f"numerical_diff(function_1, {x0:g}): {d!r}  ({exact}: {0.02 * x0 + 0.1:g})")
        tangents.append((x0, d))
    # The same on an array of points, on the backend:
    xs = s.array(np.array([5.0, 10.0]))
    s.show(
        s.t(
            "numerical_diff(function_1, [5, 10]) on the backend",
            "백엔드에서 numerical_diff(function_1, [5, 10])",
        ),
        dl.numerical_diff(function_1, xs),
    )
    return tangents


def partial_derivatives(s: Session) -> None:
    """Book 4.3.3 (seed 004's slide): each partial derivative with the other variable fixed."""
    d0 = dl.numerical_diff(lambda x0: x0 * x0 + 4.0**2.0, 3.0)
    d1 = dl.numerical_diff(lambda x1: 3.0**2.0 + x1 * x1, 4.0)
    print(f"df/dx0, (x0, x1) = (3, 4): {d0!r}")
    print(f"df/dx1, (x0, x1) = (3, 4): {d1!r}")


def gradients(s: Session) -> None:
    for point in ([3.0, 4.0], [0.0, 2.0], [3.0, 0.0]):
        g = dl.numerical_gradient(function_2, s.array(np.array(point)))
        s.show(f"numerical_gradient(function_2, {point})", g)


def descent(s: Session) -> dict[str, Any]:
    paths = {}
    for label, lr in LEARNING_RATES.items():
        x, history = dl.gradient_descent(
            function_2, s.array(np.array([-3.0, 4.0])), lr=lr, step_num=100
        )
        shown = {"good": s.t("good", "적당"), "too large": s.t("too large", "너무 큼"),
                 "too small": s.t("too small", "너무 작음")}[label]  # fmt: skip
        s.show(f"gradient_descent lr={lr:g} ({shown})", x)
        paths[label] = (lr, dl.to_numpy(history), dl.to_numpy(x))
    print(
        s.t(
            "lr=0.1 reaches the minimum (0, 0); lr=10 overshoots further at every step and\n"
            "diverges (it stalls near 1e13 only because there x + h rounds to x in float64, so "
            "the\nnumerical gradient becomes 0); lr=1e-10 hardly moves from (-3, 4).",
            "lr=0.1은 최솟값 (0, 0)에 도달한다; lr=10은 매번 더 멀리 넘어가 발산한다 (1e13\n"
            "근처에서 멈추는 것은 float64에서 x + h가 x로 반올림되어 수치 기울기가 0이\n"
            "되기 때문); lr=1e-10은 (-3, 4)에서 거의 움직이지 않는다.",
        )
    )
    return paths


class SimpleNet:
    """The book's simpleNet: one 2x3 weight matrix, softmax and cross-entropy."""

    def __init__(self, w: Any) -> None:
        self.W = w

    def predict(self, x: Any) -> Any:
        return x @ self.W

    def loss(self, x: Any, t: Any) -> Any:
        return dl.cross_entropy_error(dl.softmax(self.predict(x)), t)


def simple_net(s: Session) -> None:
    net = SimpleNet(s.array(np.array(SIMPLE_NET_W)))
    x = s.array(np.array([0.6, 0.9]))
    t = s.array(np.array([0.0, 0.0, 1.0]))
    s.show("simpleNet W", net.W)
    p = net.predict(x)
    s.show("simpleNet predict(x)", p)
    print(f"simpleNet argmax: {int(s.xp.argmax(p))}")
    s.show("simpleNet loss", net.loss(x, t))
    print(
        s.t(
            "(the book prints 0.92806853663411326 for its random W; the W above is that W\n"
            " rounded to 8 digits, so the loss and dW agree with the book to about 6 digits)",
            "(책은 무작위 W로 0.92806853663411326을 출력한다; 위의 W는 그 W를 8자리로\n"
            " 반올림한 것이라 손실과 dW가 책과 약 6자리까지 일치한다)",
        )
    )

    # The book writes f = lambda w: net.loss(x, t) and lets numerical_gradient perturb net.W
    # in place; passing W to the loss works on every backend (JAX arrays cannot be written).
    def f(w: Any) -> Any:
        return SimpleNet(w).loss(x, t)

    dw = dl.numerical_gradient(f, net.W)
    s.show("simpleNet dW", dw)


def training_data(s: Session) -> tuple[tuple[Any, Any, Any, Any], str]:
    """The book's MNIST split, or (quick / offline) a split of the 10,000 shipped test images."""
    if not s.quick:
        try:
            (x_train, t_train), (x_test, t_test) = dl.load_mnist()  # fetches once, then cached
        except dl.data.MnistFetchError as exc:
            reason = str(exc).splitlines()[0]
            print(
                s.t(
                    f"(no MNIST training set: {reason}\n run `dlcore data fetch` to get it;\n"
                    " training on a split of the shipped test images instead)",
                    f"(MNIST 훈련 데이터 없음: {reason}\n `dlcore data fetch`로 받을 수 있다;\n"
                    " 대신 포함된 시험 이미지를 나눠서 학습한다)",
                )
            )
        else:
            what = s.t("60,000 training / 10,000 test images", "훈련 60,000장 / 시험 10,000장")
            return (x_train, t_train, x_test, t_test), what
    x, t = dl.load_mnist_test()
    n_train, n_test = (1000, 500) if s.quick else (8000, 2000)
    data = (x[:n_train, ...], t[:n_train], x[-n_test:, ...], t[-n_test:])
    return data, f"{n_train} / {n_test} of the shipped test images (train / test)"


def train_two_layer_net(s: Session) -> dict[str, Any]:
    """Book 4.5: TwoLayerNet(784, 50, 10), mini-batches of 100, lr 0.1, backprop gradients."""
    (x_train, t_train, x_test, t_test), what = training_data(s)
    iters = 300 if s.quick else 10000
    net = dl.TwoLayerNet(input_size=784, hidden_size=50, output_size=10, seed=0)
    print(
        s.t(
            f"data: {what}; {iters} iterations, batch 100, lr 0.1",
            f"데이터: {what}; 반복 {iters}회, 배치 100, lr 0.1",
        )
    )
    history = dl.train(
        net,
        x_train,
        t_train,
        x_test,
        t_test,
        iters_num=iters,
        batch_size=100,
        lr=0.1,
        seed=0,
        progress=not s.quick,  # a long run reports each epoch itself
    )
    if s.quick:
        for it, tr, te in zip(
            history["eval_iters"], history["train_acc"], history["test_acc"], strict=True
        ):
            print(
                s.t(
                    f"iteration {it:5d}: train acc {tr:.4f}, test acc {te:.4f}",
                    f"반복 {it:5d}: 훈련 정확도 {tr:.4f}, 시험 정확도 {te:.4f}",
                )
            )
    print(f"{s.t('first mini-batch loss', '첫 미니배치 손실')}: {history['loss'][0]!r}")
    print(f"{s.t('last mini-batch loss', '마지막 미니배치 손실')}: {history['loss'][-1]!r}")
    print(f"{s.t('final train accuracy', '최종 훈련 정확도')}: {history['train_acc'][-1]!r}")
    print(f"{s.t('final test accuracy', '최종 시험 정확도')}: {history['test_acc'][-1]!r}")
    secs, where = f"{history['seconds']:.1f}", history["backend"]
    print(s.t(f"training took {secs} s on {where}", f"{where}에서 학습 시간 {secs}초"))
    return history


def plot_numerical_diff(s: Session, tangents: list[tuple[float, float]]) -> None:
    plt = s.plt
    if plt is None:
        return
    xs = np.arange(0.0, 20.0, 0.1)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(xs, function_1(xs), lw=2, label="f(x) = 0.01x² + 0.1x")
    for (x0, d), style in zip(tangents, ("--", ":"), strict=True):
        ax.plot(
            xs,
            d * xs + (function_1(x0) - d * x0),
            style,
            label=s.tf(f"tangent at x={x0:g}: slope {d:.4f}", f"x={x0:g}의 접선: 기울기 {d:.4f}"),
        )
        ax.plot([x0], [function_1(x0)], "ko")
    title = s.tf("Numerical derivative as the slope of the tangent", "접선의 기울기로 본 수치 미분")
    ax.set(xlabel="x", ylabel="f(x)", title=title)
    ax.legend()
    ax.grid(alpha=0.3)
    s.save(fig, "ch04_numerical_diff.png")


def plot_gradient_field(s: Session) -> None:
    plt = s.plt
    if plt is None:
        return
    g = np.arange(-2.0, 2.5, 0.25)
    x0, x1 = np.meshgrid(g, g)
    points = s.array(np.stack([x0.ravel(), x1.ravel()], axis=1))  # (N, 2)
    xp = s.xp
    # One call for every point: the gradient of sum over points of x0^2 + x1^2.
    grad = dl.to_numpy(dl.numerical_gradient(lambda p: xp.sum(p**2), points))
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    ax.quiver(x0.ravel(), x1.ravel(), -grad[:, 0], -grad[:, 1], angles="xy", color="#666666")
    ax.set(
        xlim=(-2, 2),
        ylim=(-2, 2),
        xlabel="x0",
        ylabel="x1",
        title=s.tf(
            "−∇f for f(x0, x1) = x0² + x1²: arrows point to the minimum",
            "f(x0, x1) = x0² + x1²의 −∇f: 화살표는 최솟값을 가리킨다",
        ),
    )
    ax.set_aspect("equal")
    ax.grid(alpha=0.3)
    s.save(fig, "ch04_gradient_field.png")


def plot_descent(s: Session, paths: dict[str, Any]) -> None:
    plt = s.plt
    if plt is None:
        return
    fig, (ax, ax_norm) = plt.subplots(1, 2, figsize=(11, 4.8))
    g = np.linspace(-4.5, 4.5, 91)
    c0, c1 = np.meshgrid(g, g)
    ax.contour(c0, c1, c0**2 + c1**2, levels=8, colors="0.8", linewidths=0.8)
    styles = {"good": "tab:blue", "too large": "tab:red", "too small": "tab:green"}
    names = {"good": s.tf("good", "적당"), "too large": s.tf("too large", "너무 큼"),
             "too small": s.tf("too small", "너무 작음")}  # fmt: skip
    for label, (lr, hist, _final) in paths.items():
        shown = hist[:3] if label == "too large" else hist  # it leaves the frame at step 2
        ax.plot(
            shown[:, 0],
            shown[:, 1],
            "o-",
            ms=3,
            color=styles[label],
            label=f"lr={lr:g} ({names[label]})",
        )
        norms = np.hypot(hist[:, 0], hist[:, 1])
        ax_norm.semilogy(np.arange(norms.size), norms, color=styles[label], label=f"lr={lr:g}")
    ax.plot([-3], [4], "ks", ms=6)
    title = s.tf("paths from (-3, 4)", "(-3, 4)에서 출발한 경로")
    ax.set(xlim=(-4.5, 4.5), ylim=(-4.5, 4.5), xlabel="x0", ylabel="x1", title=title)
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize=8)
    ax_norm.set(
        xlabel=s.tf("step", "단계"),
        ylabel=s.tf("distance to the minimum |x|", "최솟값까지 거리 |x|"),
        title=s.tf(
            "too large diverges, too small stands still", "너무 크면 발산, 너무 작으면 제자리"
        ),
    )
    ax_norm.legend()
    for a in (ax, ax_norm):
        a.grid(alpha=0.3)
    fig.suptitle(s.tf("Gradient descent on f(x0, x1) = x0² + x1², 100 steps",
                      "f(x0, x1) = x0² + x1²의 경사 하강법, 100단계"))  # fmt: skip
    fig.tight_layout()
    s.save(fig, "ch04_gradient_descent.png")


def plot_training(s: Session, history: dict[str, Any]) -> None:
    plt = s.plt
    if plt is None:
        return
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    ax_loss.plot(np.arange(len(history["loss"])), history["loss"], lw=0.8)
    it = s.tf("iteration", "반복")
    ax_loss.set(xlabel=it, ylabel=s.tf("mini-batch loss", "미니배치 손실"),
                title=s.tf("loss (book fig. 4-11)", "손실 (책 그림 4-11)"))  # fmt: skip
    ax_acc.plot(history["eval_iters"], history["train_acc"], "o-", ms=3,
                label=s.tf("train acc", "훈련 정확도"))  # fmt: skip
    ax_acc.plot(history["eval_iters"], history["test_acc"], "s--", ms=3,
                label=s.tf("test acc", "시험 정확도"))  # fmt: skip
    ax_acc.set(
        xlabel=it,
        ylabel=s.tf("accuracy", "정확도"),
        ylim=(0, 1),
        title=s.tf("accuracy per epoch (book fig. 4-12)", "에폭별 정확도 (책 그림 4-12)"),
    )
    ax_acc.legend(loc="lower right")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    where = history["backend"]
    fig.suptitle(s.tf(f"TwoLayerNet(784, 50, 10) on MNIST, backend {where}",
                      f"MNIST로 학습한 TwoLayerNet(784, 50, 10), 백엔드 {where}"))  # fmt: skip
    fig.tight_layout()
    s.save(fig, "ch04_training.png")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, argv)
    with session(args, "ch04 learning", "4장 신경망 학습") as s:
        s.section(
            s.t(
                "Loss functions on the book's example (book 4.2.1-4.2.2)",
                "책의 예로 본 손실 함수 (책 4.2.1-4.2.2)",
            )
        )
        losses(s)

        s.section(s.t("Numerical differentiation (book 4.3.2)", "수치 미분 (책 4.3.2)"))
        tangents = numerical_diff(s)

        s.section(s.t("Partial derivatives (book 4.3.3, seed 004)", "편미분 (책 4.3.3, 시드 004)"))
        partial_derivatives(s)

        s.section(s.t("Gradients (book 4.4)", "기울기 (책 4.4)"))
        gradients(s)

        s.section(
            s.t(
                "Gradient descent from (-3, 4), 100 steps (book 4.4.1)",
                "(-3, 4)에서 경사 하강법 100단계 (책 4.4.1)",
            )
        )
        paths = descent(s)

        s.section(s.t("simpleNet's gradient (book 4.4.2)", "simpleNet의 기울기 (책 4.4.2)"))
        simple_net(s)

        s.section(
            s.t("Training TwoLayerNet on MNIST (book 4.5)", "MNIST로 TwoLayerNet 학습 (책 4.5)")
        )
        history = train_two_layer_net(s)

        plot_numerical_diff(s, tangents)
        plot_gradient_field(s)
        plot_descent(s, paths)
        plot_training(s, history)
    return 0


if __name__ == "__main__":
    # No SystemExit on success, so the docs gallery (sphinx-gallery) can run the script too.
    if status := main():
        raise SystemExit(status)
