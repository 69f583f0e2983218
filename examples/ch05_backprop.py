"""Chapter 5, backpropagation: the apple/orange computational graph and a gradient check.
======================================================================================

Book sections 5.4 (multiplication and addition layers: buying 2 apples at
100 and 3 oranges at 150 with 10% tax; forward gives the price 715, backward
gives the derivative of the price with respect to every input) and 5.7.3
(gradient check: backprop against the numerical gradient on TwoLayerNet
with three MNIST images; they should agree to about 1e-10 or better).

Also seed 003's activations as layers (Tanh, LeakyReLU, PReLU, ELU, SELU):
each ``backward`` against the central difference of its ``forward``, and
PReLU's learned slope.

    python examples/ch05_backprop.py [--backend numba] [--out figures] [--quick] [--lang ko]

Figures: ch05_computational_graph.png (forward values above each edge,
backward derivatives below), ch05_gradient_check.png (mean and max
``|backprop - numerical|`` per parameter).
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

import numpy as np
from _common import Session, parse_args, session

import dlcore as dl


def buy_apple(s: Session) -> None:
    """Book 5.4.1: 2 apples at 100 with 10% tax."""
    apple, apple_num, tax = s.array(100.0), s.array(2.0), s.array(1.1)
    mul_apple_layer, mul_tax_layer = dl.MulLayer(), dl.MulLayer()
    apple_price = mul_apple_layer.forward(apple, apple_num)
    price = mul_tax_layer.forward(apple_price, tax)
    apple_ = s.t("apple", "사과")
    s.show(f"{apple_}: price", price)
    dprice = s.array(1.0)
    dapple_price, dtax = mul_tax_layer.backward(dprice)
    dapple, dapple_num = mul_apple_layer.backward(dapple_price)
    s.show(f"{apple_}: dapple", dapple)
    s.show(f"{apple_}: dapple_num", dapple_num)
    s.show(f"{apple_}: dtax", dtax)


def buy_apple_orange(s: Session) -> dict[str, float]:
    """Book 5.4.2: 2 apples at 100 and 3 oranges at 150, with 10% tax."""
    apple, apple_num = s.array(100.0), s.array(2.0)
    orange, orange_num = s.array(150.0), s.array(3.0)
    tax = s.array(1.1)
    mul_apple_layer, mul_orange_layer = dl.MulLayer(), dl.MulLayer()
    add_apple_orange_layer, mul_tax_layer = dl.AddLayer(), dl.MulLayer()

    # forward
    apple_price = mul_apple_layer.forward(apple, apple_num)
    orange_price = mul_orange_layer.forward(orange, orange_num)
    all_price = add_apple_orange_layer.forward(apple_price, orange_price)
    price = mul_tax_layer.forward(all_price, tax)
    # backward
    dprice = s.array(1.0)
    dall_price, dtax = mul_tax_layer.backward(dprice)
    dapple_price, dorange_price = add_apple_orange_layer.backward(dall_price)
    dorange, dorange_num = mul_orange_layer.backward(dorange_price)
    dapple, dapple_num = mul_apple_layer.backward(dapple_price)

    s.show("price", price)
    s.show("dApple", dapple)
    s.show("dApple_num", dapple_num)
    s.show("dOrange", dorange)
    s.show("dOrange_num", dorange_num)
    s.show("dTax", dtax)
    values = {
        "apple_price": apple_price,
        "orange_price": orange_price,
        "all_price": all_price,
        "price": price,
        "dall_price": dall_price,
        "dapple_price": dapple_price,
        "dorange_price": dorange_price,
        "dapple": dapple,
        "dapple_num": dapple_num,
        "dorange": dorange,
        "dorange_num": dorange_num,
        "dtax": dtax,
    }
    return {k: float(dl.to_numpy(v)) for k, v in values.items()}


def pooled(s: Session, x: Any, size: int) -> Any:
    """Average ``size`` x ``size`` blocks of 28x28 images: (N, 784) -> (N, (28 // size)**2)."""
    n, side = int(x.shape[0]), 28 // size
    blocks = s.xp.reshape(x, (n, side, size, side, size))
    return s.xp.reshape(s.xp.mean(blocks, axis=(2, 4)), (n, side * side))


def gradient_check(s: Session, n_images: int) -> tuple[dict[str, dict[str, float]], str]:
    """Book 5.7.3: backprop vs numerical gradient on a few MNIST test images."""
    x, t = dl.load_mnist_test(normalize=True, one_hot_label=True)
    x_batch, t_batch = x[:n_images, ...], t[:n_images, ...]
    hidden_size = 50
    if s.quick:
        # The numerical gradient costs two loss evaluations per parameter: 39,760 of them
        # for the book's 784-50-10 net. Quick mode checks a 49-5-10 net on 7x7 images.
        x_batch, hidden_size = pooled(s, x_batch, 4), 5
    input_size = int(x_batch.shape[1])
    net = dl.TwoLayerNet(input_size, hidden_size, 10, seed=0)
    n_params = sum(int(np.prod(v.shape)) for v in net.params.values())
    small = s.t(" (7x7 pixels, --quick)", " (7x7 픽셀, --quick)") if s.quick else ""
    print(
        s.t(
            f"TwoLayerNet({input_size}, {hidden_size}, 10): {n_params} parameters, "
            f"{n_images} images{small}",
            f"TwoLayerNet({input_size}, {hidden_size}, 10): 매개변수 {n_params}개, "
            f"이미지 {n_images}장{small}",
        )
    )

    start = perf_counter()
    net.gradient(x_batch, t_batch)
    s.backend.synchronize()
    backprop_s = perf_counter() - start
    start = perf_counter()
    diff = dl.gradient_check(net, x_batch, t_batch)
    check_s = perf_counter() - start
    for key, d in diff.items():
        print(f"{key}: mean |backprop - numerical| = {d['mean']:.2e}, max = {d['max']:.2e}")
    print(
        s.t(
            "W2 and b2 differ by about 1e-7: the loss has the book's delta = 1e-7 inside log(),\n"
            "which backprop's (y - t) / N ignores; the numerical gradient sees it.",
            "W2와 b2는 약 1e-7 차이: 손실의 log() 안에 책의 delta = 1e-7이 있는데\n"
            "역전파의 (y - t) / N은 이를 무시하고 수치 기울기는 반영한다.",
        )
    )
    ms, sec = f"{backprop_s * 1e3:.2f}", f"{check_s:.2f}"
    print(
        s.t(
            f"backprop took {ms} ms; the check (numerical gradient: two loss\n"
            f"evaluations per parameter) took {sec} s - which is why networks are trained\n"
            "with backprop and the numerical gradient only verifies it.",
            f"역전파는 {ms} ms; 검증(수치 기울기: 매개변수마다 손실 계산 두 번)은\n"
            f"{sec}초 - 그래서 신경망은 역전파로 학습하고 수치 기울기는 검증에만 쓴다.",
        )
    )
    title = s.tf(
        f"Gradient check: TwoLayerNet({input_size}, {hidden_size}, 10), {n_images} images",
        f"기울기 확인: TwoLayerNet({input_size}, {hidden_size}, 10), 이미지 {n_images}장",
    )
    return diff, title


def activation_layers(s: Session) -> None:
    """Seed 003's activations as layers: backward against the central difference of forward."""
    rng = np.random.default_rng(0)
    x_host = rng.uniform(0.1, 2.0, (4, 3)) * np.where(rng.random((4, 3)) < 0.5, -1, 1)
    dout_host = rng.standard_normal((4, 3))
    x, dout, h = s.array(x_host), s.array(dout_host), 1e-6
    layers = {
        "Tanh": dl.Tanh,
        "LeakyReLU(alpha=0.01)": dl.LeakyReLU,
        "PReLU(alpha=0.25)": lambda: dl.PReLU(s.array(np.full(3, 0.25))),
        "ELU(alpha=1.0)": dl.ELU,
        "SELU()": dl.SELU,
    }
    for name, make in layers.items():
        layer = make()
        layer.forward(x)
        dx = dl.to_numpy(layer.backward(dout))
        numeric = (dl.to_numpy(make().forward(x + h)) - dl.to_numpy(make().forward(x - h))) / 2 / h
        diff = float(np.max(np.abs(dx - dout_host * numeric)))
        print(f"{name:22s} max |backward - {s.t('numerical', '수치 미분')}| = {diff:.1e}")
        if name.startswith("PReLU"):
            s.show(
                s.t("  PReLU dalpha (one per unit)", "  PReLU dalpha (뉴런마다 하나)"), layer.dalpha
            )


def plot_graph(s: Session, v: dict[str, float]) -> None:
    """Draw the apple/orange graph: forward values above each edge, derivatives below (red)."""
    plt = s.plt
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(11, 5))
    nodes = {
        "apple": (0.0, 3.9),
        "apple_num": (0.0, 2.2),
        "orange": (0.0, 1.4),
        "orange_num": (0.0, -0.3),
        "mul_apple": (3.0, 3.0),
        "mul_orange": (3.0, 0.6),
        "add": (5.5, 1.8),
        "tax": (5.5, 3.6),
        "mul_tax": (8.0, 1.8),
        "price": (10.5, 1.8),
    }
    ops = {"mul_apple": "×", "mul_orange": "×", "add": "+", "mul_tax": "×"}
    names = {
        "apple": s.tf("apple", "사과"),
        "apple_num": s.tf("apple count", "사과 개수"),
        "orange": s.tf("orange", "귤"),
        "orange_num": s.tf("orange count", "귤 개수"),
        "tax": s.tf("tax", "소비세"),
        "price": s.tf("price", "가격"),
    }
    for key, (x, y) in nodes.items():
        if key in ops:
            ax.add_patch(plt.Circle((x, y), 0.32, fc="#fff5d6", ec="k", lw=1.2, zorder=3))
            ax.text(x, y, ops[key], ha="center", va="center", fontsize=18, zorder=4)
        else:
            ax.text(x, y, names[key], ha="center", va="center", fontsize=11, zorder=4)
    edges = [
        ("apple", "mul_apple", 100.0, v["dapple"]),
        ("apple_num", "mul_apple", 2.0, v["dapple_num"]),
        ("orange", "mul_orange", 150.0, v["dorange"]),
        ("orange_num", "mul_orange", 3.0, v["dorange_num"]),
        ("mul_apple", "add", v["apple_price"], v["dapple_price"]),
        ("mul_orange", "add", v["orange_price"], v["dorange_price"]),
        ("add", "mul_tax", v["all_price"], v["dall_price"]),
        ("tax", "mul_tax", 1.1, v["dtax"]),
        ("mul_tax", "price", v["price"], 1.0),
    ]
    for a, b, fwd, bwd in edges:
        (x0, y0), (x1, y1) = nodes[a], nodes[b]
        start = (x0 + 0.75, y0) if a not in ops else (x0 + 0.35, y0)
        if a == "tax":
            start = (x0 + 0.2, y0 - 0.25)
        ax.annotate(
            "",
            xy=(x1 - 0.34, y1) if b in ops else (x1 - 0.45, y1),
            xytext=start,
            arrowprops={"arrowstyle": "->", "lw": 1.3},
        )
        # Labels a third of the way along the edge: forward above it, backward below.
        dx, dy = x1 - start[0], y1 - start[1]
        length = float(np.hypot(dx, dy))
        nx, ny = -dy / length, dx / length
        px, py = start[0] + 0.4 * dx, start[1] + 0.4 * dy
        kw = {"ha": "center", "va": "center", "fontsize": 11}
        ax.text(px + 0.22 * nx, py + 0.22 * ny, f"{fwd:.4g}", **kw)
        ax.text(px - 0.24 * nx, py - 0.24 * ny, f"{bwd:.4g}", color="tab:red", **kw)
    ax.set(xlim=(-1, 11.5), ylim=(-0.8, 4.4))
    ax.axis("off")
    ax.set_title(
        s.tf(
            "Buying apples and oranges: forward values (black) and d price / d value (red)",
            "사과와 귤 쇼핑: 순전파 값(검정)과 d 가격 / d 값(빨강)",
        ),
        fontsize=12,
    )
    s.save(fig, "ch05_computational_graph.png")


def plot_gradient_check(s: Session, diff: dict[str, dict[str, float]], title: str) -> None:
    plt = s.plt
    if plt is None:
        return
    keys = list(diff)
    pos = np.arange(len(keys))
    fig, ax = plt.subplots(figsize=(6, 3.6))
    floor = 1e-20  # a difference of exactly 0 cannot be drawn on a log axis
    means = [max(diff[k]["mean"], floor) for k in keys]
    maxes = [max(diff[k]["max"], floor) for k in keys]
    ax.bar(pos - 0.2, means, 0.4, label=s.tf("mean", "평균"))
    ax.bar(pos + 0.2, maxes, 0.4, label=s.tf("max", "최대"))
    ax.set_yscale("log")
    ax.set_ylim(min(means) / 10, max(maxes) * 10)
    ax.set_xticks(pos, keys)
    ax.set(ylabel=s.tf("|backprop − numerical|", "|역전파 − 수치 미분|"), title=title)
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    s.save(fig, "ch05_gradient_check.png")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, argv)
    with session(args, "ch05 backpropagation", "5장 오차역전파법") as s:
        s.section(
            s.t(
                "Buying apples: MulLayer forward and backward (book 5.4.1)",
                "사과 쇼핑: MulLayer의 순전파와 역전파 (책 5.4.1)",
            )
        )
        buy_apple(s)

        s.section(
            s.t(
                "Buying apples and oranges: MulLayer and AddLayer (book 5.4.2)",
                "사과와 귤 쇼핑: MulLayer와 AddLayer (책 5.4.2)",
            )
        )
        values = buy_apple_orange(s)
        print(
            s.t(
                "Read the derivatives as sensitivities: one more apple adds 110 to the price,\n"
                "raising the tax rate by 1 (100%) adds 650.",
                "미분은 민감도로 읽는다: 사과를 하나 더 사면 가격이 110 오르고,\n"
                "세율을 1(100%) 올리면 650 오른다.",
            )
        )

        s.section(
            s.t(
                "Seed 003's activations as layers: backward vs numerical",
                "시드 003의 활성화 함수 계층: 역전파와 수치 미분",
            )
        )
        activation_layers(s)

        s.section(
            s.t(
                "Gradient check: backprop vs numerical gradient (book 5.7.3)",
                "기울기 확인: 역전파와 수치 기울기 (책 5.7.3)",
            )
        )
        diff, title = gradient_check(s, 3)

        plot_graph(s, values)
        plot_gradient_check(s, diff, title)
    return 0


if __name__ == "__main__":
    # No SystemExit on success, so the docs gallery (sphinx-gallery) can run the script too.
    if status := main():
        raise SystemExit(status)
