"""Chapter 3, MNIST inference: a few digits, and the sample network image by image vs in batches.
==============================================================================================

Book sections 3.6.1 (the MNIST data set; here the 10,000 test images that
ship with dlcore, so nothing is downloaded), 3.6.2 (inference with a trained
network; dlcore ships its own 784-50-100-10 sigmoid network, trained by
dlcore, where the book ships ``sample_weight.pkl``) and 3.6.3 (batch
processing: the same accuracy, many more images per second). The book's own
``sample_weight.pkl`` ships too (``dl.load_book_network()``): it prints the
book's line, ``Accuracy:0.9352`` (seed 002's headline result).

    python examples/ch03_mnist.py [--backend numba] [--out figures] [--quick] [--batch-size 100]
        [--lang ko]

Figures: ch03_mnist_digits.png (the first 32 test digits with label and
prediction), ch03_mnist_speed.png (images/s image by image vs in batches).
"""

from __future__ import annotations

import argparse
from time import perf_counter
from typing import Any

import numpy as np
from _common import Session, parse_args, positive_int, session

import dlcore as dl


def extra_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--batch-size", type=positive_int, default=100, metavar="N", help="images per batch"
    )


def image_by_image(s: Session, network: Any, x: Any, labels: np.ndarray) -> tuple[int, float]:
    """The book's first loop: predict one image, compare its argmax with the label."""
    xp = s.xp
    hits = 0
    start = perf_counter()
    for i in range(labels.size):
        y = dl.predict(network, x[i, ...])
        if int(xp.argmax(y)) == int(labels[i]):
            hits += 1
    s.backend.synchronize()
    return hits, perf_counter() - start


def in_batches(s: Session, network: Any, x: Any, t: Any, batch_size: int) -> tuple[int, float]:
    """The book's batch loop: predict ``batch_size`` images at once, count matches on the device."""
    xp = s.xp
    n = int(x.shape[0])
    hits = 0
    start = perf_counter()
    for i in range(0, n, batch_size):
        y = dl.predict(network, x[i : i + batch_size, ...])
        p = xp.argmax(y, axis=1)
        hits += int(xp.sum(xp.astype(p == t[i : i + batch_size], xp.int64)))
    s.backend.synchronize()
    return hits, perf_counter() - start


def plot_digits(s: Session, x: Any, labels: np.ndarray, predicted: np.ndarray) -> None:
    plt = s.plt
    if plt is None:
        return
    images = dl.to_numpy(x).reshape(-1, 28, 28)
    rows, cols = 4, 8
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.3, rows * 1.5))
    for k, ax in enumerate(axes.ravel()):
        ax.imshow(images[k], cmap="gray_r")
        ok = predicted[k] == labels[k]
        ax.set_title(
            f"{labels[k]} → {predicted[k]}", fontsize=10, color="tab:green" if ok else "tab:red"
        )
        ax.axis("off")
    fig.suptitle(
        s.tf(
            "MNIST test images: label → sample network's prediction",
            "MNIST 시험 이미지: 정답 → 샘플 신경망의 예측",
        )
    )
    fig.tight_layout()
    s.save(fig, "ch03_mnist_digits.png")


def plot_speed(s: Session, results: dict[str, tuple[float, float]]) -> None:
    """``results``: name -> (images per second, accuracy)."""
    plt = s.plt
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    names = list(results)
    rates = [results[k][0] for k in names]
    labels = [
        s.tf(f"{r:,.0f} images/s, accuracy {a:.4f}", f"초당 {r:,.0f}장, 정확도 {a:.4f}")
        for r, a in results.values()
    ]
    bars = ax.barh(names, rates, color=["tab:gray", "tab:blue"])
    ax.bar_label(bars, labels=labels, padding=4)
    ax.set_xscale("log")
    ax.set_xlim(min(rates) / 5, max(rates) * 200)
    ax.set(
        xlabel=s.tf("images per second (log scale)", "초당 이미지 수 (로그 눈금)"),
        title=s.tf(
            f"Sample network on {s.backend.name}: same accuracy, faster in batches",
            f"{s.backend.name}의 샘플 신경망: 정확도는 같고 배치가 빠르다",
        ),
    )
    fig.tight_layout()
    s.save(fig, "ch03_mnist_speed.png")


def book_accuracy(s: Session, x: Any, t: Any, batch_size: int) -> None:
    """Seed 002 / book 3.6.3: the book's sample_weight.pkl on all 10,000 test images."""
    network = dl.load_book_network()
    hits, _ = in_batches(s, network, x, t, batch_size)
    print(
        s.t(
            "the book's sample_weight.pkl (dl.load_book_network()), every test image:",
            "책의 sample_weight.pkl (dl.load_book_network()), 시험 이미지 전체:",
        )
    )
    print("Accuracy:" + str(float(hits) / int(x.shape[0])))  # the book's own print


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, argv, extra=extra_args)
    with session(args, "ch03 MNIST inference", "3장 MNIST 추론") as s:
        s.section(s.t("The data (book 3.6.1)", "데이터 (책 3.6.1)"))
        x_all, t_all = dl.load_mnist_test(normalize=True, flatten=True)
        print(
            f"x_test: {s.t('shape', '모양')} {tuple(x_all.shape)}, dtype {x_all.dtype}; "
            f"t_test: {s.t('shape', '모양')} {tuple(t_all.shape)}"
        )
        lo, hi = float(s.xp.min(x_all)), float(s.xp.max(x_all))
        print(s.t(f"pixel values scaled to [{lo}, {hi}]", f"픽셀 값의 범위 [{lo}, {hi}]"))
        n = 500 if s.quick else int(x_all.shape[0])
        x, t = x_all[:n, ...], t_all[:n]
        labels = dl.to_numpy(t)

        s.section(
            s.t("The book's network (book 3.6.2, seed 002)", "책의 신경망 (책 3.6.2, 시드 002)")
        )
        book_accuracy(s, x_all, t_all, args.batch_size)

        s.section(s.t("dlcore's sample network (book 3.6.2)", "dlcore의 샘플 신경망 (책 3.6.2)"))
        network = dl.load_sample_network()
        shapes = ", ".join(f"{k} {tuple(v.shape)}" for k, v in network.items())
        print(f"{s.t('layers', '층')}: {shapes}")
        # Warm up (a JIT backend compiles on the first call) before the clock starts.
        dl.predict(network, x[0, ...])
        dl.predict(network, x[: args.batch_size, ...])
        s.backend.synchronize()

        hits1, sec1 = image_by_image(s, network, x, labels)
        hits2, sec2 = in_batches(s, network, x, t, args.batch_size)
        rate1, rate2 = n / sec1, n / sec2
        one, many = (
            s.t("image by image", "한 장씩"),
            s.t(f"batches of {args.batch_size}", f"배치 {args.batch_size}장"),
        )
        print(f"{s.t('images', '이미지')}: {n}")
        print(f"{s.t('accuracy', '정확도')}, {one}: {hits1 / n!r}")
        print(f"{s.t('accuracy', '정확도')}, {many}: {hits2 / n!r}")
        print(f"{s.t('images/s', '초당 이미지')}, {one}: {rate1:.4g}")
        print(f"{s.t('images/s', '초당 이미지')}, {many}: {rate2:.4g}")
        print(
            s.t(
                f"batches are {rate2 / rate1:.0f}x faster: one big matrix product per layer",
                f"배치가 {rate2 / rate1:.0f}배 빠르다: 층마다 큰 행렬 곱 한 번",
            )
        )

        s.section(s.t("A few digits", "숫자 몇 개"))
        k = 32
        predicted = dl.to_numpy(s.xp.argmax(dl.predict(network, x[:k, ...]), axis=1))
        s.show(s.t(f"labels of the first {k}", f"처음 {k}개의 정답"), labels[:k])
        s.show(s.t(f"predictions of the first {k}", f"처음 {k}개의 예측"), predicted)
        plot_digits(s, x[:k, ...], labels[:k], predicted)
        plot_speed(
            s,
            {
                s.tf("image by image", "한 장씩"): (rate1, hits1 / n),
                s.tf(f"batches of {args.batch_size}", f"배치 {args.batch_size}장"): (
                    rate2,
                    hits2 / n,
                ),
            },
        )
    return 0


if __name__ == "__main__":
    # No SystemExit on success, so the docs gallery (sphinx-gallery) can run the script too.
    if status := main():
        raise SystemExit(status)
