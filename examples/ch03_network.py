"""Chapter 3, arrays and the 3-layer network: shapes, broadcasting, forward pass, softmax.
=======================================================================================

Book sections 1.5.5 (broadcasting), 3.3 (multidimensional arrays and the
matrix product), 3.4 (the 3-layer network's forward pass, whose output for
x = [1.0, 0.5] is [0.31682708 0.69627909]) and 3.5 (identity vs softmax output,
and why softmax subtracts the maximum: exp(1010) overflows). From the seeds:
B @ A next to A @ B (seed 000: the product does not commute), seed 000's
np.dot(A, B) with a 4-element A (a shape error; [22 28] needs 3 elements),
seed 001's broadcasting examples, and seed 003's small network
(X = [1 2 1], its W1, B1, W2, B2), linear and with ReLU.

    python examples/ch03_network.py [--backend numba] [--out figures] [--quick] [--lang ko]

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
    s.show(s.t("B @ A (seed 000: AB != BA)", "B @ A (시드 000: AB != BA)"), b @ a)
    a4 = s.array([1, 2, 3, 4])
    b32 = s.array([[1, 2], [3, 4], [5, 6]])
    try:
        a4 @ b32
    except (ValueError, TypeError, RuntimeError) as exc:
        print(
            s.t(
                f"seed 000's np.dot(A, B) with A = [1 2 3 4], B of shape (3, 2) fails: {exc}",
                f"시드 000의 np.dot(A, B), A = [1 2 3 4], B 모양 (3, 2): 오류 {exc}",
            )
        )
    s.show(s.t("with A = [1 2 3] it gives", "A = [1 2 3]이면"), s.array([1, 2, 3]) @ b32)
    a = s.array([[1, 2, 3], [4, 5, 6]])
    b = s.array([[1, 2], [3, 4], [5, 6]])
    print(f"A.shape = {tuple(a.shape)}, B.shape = {tuple(b.shape)}")
    s.show("A @ B (2x3 @ 3x2 -> 2x2)", a @ b)
    c = s.array([[1, 2], [3, 4]])
    try:
        a @ c
    except (ValueError, TypeError, RuntimeError) as exc:  # torch raises RuntimeError
        what = s.t("A @ C with shapes (2, 3) @ (2, 2) fails", "모양 (2, 3) @ (2, 2)인 A @ C는 오류")
        print(f"{what}: {type(exc).__name__}: {exc}")
    x = s.array([1, 2])
    w = s.array([[1, 3, 5], [2, 4, 6]])
    must = s.t("the inner sizes must agree", "안쪽 차원의 크기가 같아야 한다")
    print(f"X.shape = {tuple(x.shape)}, W.shape = {tuple(w.shape)}: {must}")
    s.show("Y = X @ W", x @ w)


def broadcasting(s: Session) -> None:
    a = s.array([[1, 2], [3, 4]])
    s.show(
        s.t(
            "A * 10 (the scalar is stretched to A's shape)",
            "A * 10 (스칼라가 A의 모양으로 늘어난다)",
        ),
        a * 10,
    )
    s.show(
        s.t(
            "A * [10, 20] (the row is repeated for each row of A)",
            "A * [10, 20] (행이 A의 각 행에 반복된다)",
        ),
        a * s.array([10, 20]),
    )
    s.show(
        s.t("A + b with b of shape (2,): the bias of a layer", "A + b, b의 모양 (2,): 층의 편향"),
        a + s.array([100, 200]),
    )
    xp = s.xp
    r = xp.arange(3)
    s.show("np.arange(3) + 5", r + 5)
    s.show("np.ones((3, 3)) + np.arange(3)", xp.ones((3, 3)) + xp.astype(r, xp.float64))
    s.show("np.arange(3).reshape((3, 1)) + np.arange(3)", xp.reshape(r, (3, 1)) + r)


def seed_003_network(s: Session) -> None:
    """Seed 003's 3-3-2 network: X = [1 2 1], forward linear and with ReLU in the hidden layer."""
    x = s.array(SEED_003["X"])
    w1, b1 = s.array(SEED_003["W1"]), s.array(SEED_003["B1"])
    w2, b2 = s.array(SEED_003["W2"]), s.array(SEED_003["B2"])
    h = x @ w1 + b1
    s.show("X @ W1 + B1", h)
    s.show(s.t("Y, linear (no activation)", "Y, 선형 (활성화 함수 없음)"), h @ w2 + b2)
    s.show("ReLU(X @ W1 + B1)", dl.relu(h))
    s.show(s.t("Y with ReLU in the hidden layer", "은닉층에 ReLU를 쓴 Y"), dl.relu(h) @ w2 + b2)
    print(
        s.t(
            "ReLU zeroes the third hidden unit (-2), so y2 changes: the activation matters.",
            "ReLU가 세 번째 은닉 뉴런(-2)을 0으로 만들어 y2가 달라진다: 활성화 함수의 효과.",
        )
    )


#: Seed 003's network ("선형함수" slide): 3 inputs, 3 hidden units, 2 outputs.
SEED_003 = {
    "X": [1.0, 2.0, 1.0],
    "W1": [[1.0, 1.0, -1.0], [1.0, 0.5, -1.0], [1.0, 1.0, 1.0]],
    "B1": [0.0, 0.0, 0.0],
    "W2": [[1.0, 0.5], [-1.0, 0.5], [0.0, 1.0]],
    "B2": [1.0, -0.5],
}


def forward_by_hand(s: Session, x: Any) -> Any:
    """The book's forward(): three affine layers, sigmoid between them, identity at the end."""
    w = {k: s.array(v) for k, v in BOOK_WEIGHTS.items()}
    a1 = x @ w["W1"] + w["b1"]
    z1 = dl.sigmoid(a1)
    print(
        f"{s.t('layer', '층')} 1: x {tuple(x.shape)} @ W1 {tuple(w['W1'].shape)} "
        f"+ b1 -> A1 {tuple(a1.shape)}"
    )
    s.show("A1", a1)
    s.show("Z1 = sigmoid(A1)", z1)
    a2 = z1 @ w["W2"] + w["b2"]
    z2 = dl.sigmoid(a2)
    print(
        f"{s.t('layer', '층')} 2: Z1 {tuple(z1.shape)} @ W2 {tuple(w['W2'].shape)} "
        f"+ b2 -> A2 {tuple(a2.shape)}"
    )
    s.show("A2", a2)
    s.show("Z2 = sigmoid(A2)", z2)
    a3 = z2 @ w["W3"] + w["b3"]
    print(
        f"{s.t('layer', '층')} 3: Z2 {tuple(z2.shape)} @ W3 {tuple(w['W3'].shape)} "
        f"+ b3 -> A3 {tuple(a3.shape)}"
    )
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
    s.show(s.t("naive exp(a) / sum(exp(a))", "그대로 계산한 exp(a) / sum(exp(a))"), naive)
    messages = sorted({str(w.message) for w in caught})
    if messages:
        kinds = sorted({w.category.__name__ for w in caught})
        print(f"({s.t('caught', '잡힌 경고')} {', '.join(kinds)}: {'; '.join(messages)})")
    print(
        s.t(
            "exp(1010) is larger than the largest float64 (about 1.8e308, exp(709.8)), so it\n"
            "overflows to inf, and inf / inf is nan. Subtracting the maximum first changes "
            "nothing\nmathematically (softmax(a - C) = softmax(a)) but keeps every exp() at "
            "most 1:",
            "exp(1010)은 float64의 최댓값(약 1.8e308, exp(709.8))보다 커서 inf로\n"
            "오버플로하고, inf / inf는 nan이다. 먼저 최댓값을 빼도 수학적으로는 같지만\n"
            "(softmax(a - C) = softmax(a)) 모든 exp()가 1 이하가 된다:",
        )
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
    klass = s.tf("class k", "클래스 k")
    axes[0].set(
        title=s.tf("identity output: the scores a", "항등 함수 출력: 점수 a"),
        xlabel=klass,
        ylabel="a_k",
    )
    axes[1].bar(idx, y_np, color="tab:blue")
    for k, v in zip(idx, y_np, strict=True):
        axes[1].text(k, v + 0.02, f"{v:.3f}", ha="center")
    axes[1].set(
        title=s.tf("softmax output: probabilities (sum 1)", "소프트맥스 출력: 확률 (합 1)"),
        xlabel=klass,
        ylabel="y_k = exp(a_k) / sum exp(a_i)",
        ylim=(0, 1),
    )
    for ax in axes:
        ax.set_xticks(idx)
    fig.tight_layout()
    s.save(fig, "ch03_identity_vs_softmax.png")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, argv)
    with session(args, "ch03 arrays and the 3-layer network", "3장 배열과 3층 신경망") as s:
        s.section(s.t("Matrix shapes and products (book 3.3)", "행렬의 모양과 곱 (책 3.3)"))
        shapes_and_products(s)

        s.section(s.t("Broadcasting (book 1.5.5, seed 001)", "브로드캐스트 (책 1.5.5, 시드 001)"))
        broadcasting(s)

        s.section(s.t("Seed 003's network: linear and with ReLU", "시드 003의 신경망: 선형과 ReLU"))
        seed_003_network(s)

        s.section(
            s.t("The 3-layer network's forward pass (book 3.4.3)", "3층 신경망의 순전파 (책 3.4.3)")
        )
        x = s.array(np.array([1.0, 0.5]))
        y = forward_by_hand(s, x)
        s.show(s.t("forward pass, y", "순전파, y"), y)
        network = dl.init_network()  # the same weights, on the active backend
        s.show("dl.forward(dl.init_network(), x)", dl.forward(network, x))
        batch = s.array(np.array([[1.0, 0.5], [1.0, 0.5], [0.0, 0.0]]))
        s.show(
            s.t("a batch of 3 inputs, dl.forward", "입력 3개의 배치, dl.forward"),
            dl.forward(network, batch),
        )

        s.section(
            s.t("Identity vs softmax output (book 3.5.1)", "항등 함수와 소프트맥스 출력 (책 3.5.1)")
        )
        a = s.array(np.array([0.3, 2.9, 4.0]))
        s.show("a", a)
        s.show("identity_function(a)", dl.identity_function(a))
        p = dl.softmax(a)
        s.show("softmax(a)", p)
        s.show("sum(softmax(a))", s.xp.sum(p))
        print(
            s.t(
                "softmax keeps the order (argmax is unchanged), so inference can skip it.",
                "소프트맥스는 대소 관계를 바꾸지 않으므로 (argmax 불변) 추론에서는 생략할 수 있다.",
            )
        )

        s.section(s.t("Softmax overflow (book 3.5.2)", "소프트맥스 오버플로 (책 3.5.2)"))
        softmax_overflow(s)

        plot_identity_vs_softmax(s, a, p)
    return 0


if __name__ == "__main__":
    # No SystemExit on success, so the docs gallery (sphinx-gallery) can run the script too.
    if status := main():
        raise SystemExit(status)
