"""Run every example (``--quick``) and check its key printed numbers against the book.

Expected values are the numbers printed in "Deep Learning from Scratch"
(chapters 2-5), not values computed by dlcore. Each example runs in-process
through its ``main(argv)`` on each backend of the ``backend`` fixture. On
NumPy it also draws its figures (the PNG files must exist); on the other
backends matplotlib is hidden, which exercises the "no matplotlib" path and
keeps the suite fast.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import dlcore

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

#: The figures each example writes.
FIGURES = {
    "ch02_perceptron": ["ch02_gates.png", "ch02_xor.png"],
    "ch03_activations": [
        "ch03_activations.png",
        "ch03_step_vs_sigmoid.png",
        "ch03_sigmoid_steps.png",
        "ch03_step_joined.png",
    ],
    "ch03_network": ["ch03_identity_vs_softmax.png"],
    "ch03_mnist": ["ch03_mnist_digits.png", "ch03_mnist_speed.png"],
    "ch04_learning": [
        "ch04_numerical_diff.png",
        "ch04_gradient_field.png",
        "ch04_gradient_descent.png",
        "ch04_training.png",
    ],
    "ch05_backprop": ["ch05_computational_graph.png", "ch05_gradient_check.png"],
}

try:
    import matplotlib  # noqa: F401
except ImportError:  # pragma: no cover - the test extra installs it
    HAVE_MPL = False
else:
    HAVE_MPL = True


def load(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    return importlib.import_module(name)


def run_example(
    name: str,
    backend: dlcore.Backend,
    out: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> str:
    """Run ``name --quick`` on ``backend``; draw figures on NumPy only."""
    module = load(name, monkeypatch)
    plots = backend.name == "numpy" and HAVE_MPL
    if not plots:
        monkeypatch.setitem(sys.modules, "matplotlib", None)  # "import matplotlib" fails
    code = module.main(["--backend", backend.name, "--quick", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0, text
    assert f"backend: {backend.name}" in text
    if plots:
        for fig in FIGURES[name]:
            path = out / fig
            assert path.is_file(), f"{name} did not write {fig}:\n{text}"
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert 'pip install "dlcore[plot]"' in text
        assert not list(out.glob("*.png"))
    return text


def printed(text: str, label: str, *, last: bool = False) -> str:
    """The value printed after ``label:`` (a multi-line array continues on the next lines)."""
    lines = text.splitlines()
    order = list(enumerate(lines))
    for i, line in reversed(order) if last else order:
        if line.startswith(label + ":"):
            rest = line[len(label) + 1 :].strip()
            if rest:
                return rest
            block = []
            for follow in lines[i + 1 :]:
                if not follow.lstrip().startswith("["):
                    break
                block.append(follow)
            return "\n".join(block)
    raise AssertionError(f"no line starts with {label!r} in:\n{text}")


def number(text: str, label: str) -> float:
    return float(printed(text, label).split()[0])


def array(text: str, label: str, *, last: bool = False) -> np.ndarray:
    """Parse a NumPy-printed array (1-D or 2-D) after ``label:`` (its last one with ``last``)."""
    rows = [r for r in re.split(r"\]\s*\n?\s*\[", printed(text, label, last=last)) if r.strip()]
    parsed = [np.array(r.strip("[] \n").split(), dtype=np.float64) for r in rows]
    return parsed[0] if len(parsed) == 1 else np.stack(parsed)


# -- chapter 2 -----------------------------------------------------------------------


def test_ch02_perceptron(backend, tmp_path, monkeypatch, capsys):
    text = run_example("ch02_perceptron", backend, tmp_path, monkeypatch, capsys)
    tables = {"AND": [0, 0, 0, 1], "NAND": [1, 1, 1, 0], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0]}
    for gate, expected in tables.items():
        got = array(text, f"{gate} outputs for (0,0),(1,0),(0,1),(1,1)")
        np.testing.assert_array_equal(got, expected)
    # No single line separates XOR; the linearly separable gates have many.
    assert number(text, "perceptrons that compute XOR") == 0
    for gate in ("AND", "NAND", "OR"):
        assert number(text, f"perceptrons that compute {gate}") > 0
    assert "dl.AND agrees with the table: True" in text
    # Seed 002: other parameters of the same gates.
    for params, gate in (
        ("(0.5, 0.5, 0.8)", "AND"),
        ("(1.0, 1.0, 1.0)", "AND"),
        ("(0.5, 0.5, 0.3)", "OR"),
    ):
        assert f"{gate} (w1, w2, θ) = {params}: outputs for {tables[gate]}" in text
    # Seed 001: its two printed loops of the wrong wirings, and the right one.
    assert "(AND, NAND) -> (OR):\n[0 0] -> 1\n[1 0] -> 1\n[0 1] -> 1\n[1 1] -> 1\n" in text
    assert "(AND, OR) -> (NAND):\n[0 0] -> 1\n[1 0] -> 1\n[0 1] -> 1\n[1 1] -> 0\n" in text
    assert "(NAND, OR) -> (AND):\n[0 0] -> 0\n[1 0] -> 1\n[0 1] -> 1\n[1 1] -> 0\n" in text


# -- chapter 3 -----------------------------------------------------------------------


def test_ch03_activations(backend, tmp_path, monkeypatch, capsys):
    text = run_example("ch03_activations", backend, tmp_path, monkeypatch, capsys)
    # The book's section 3.2.4: sigmoid([-1, 1, 2]); 3.2.3: the step function.
    np.testing.assert_allclose(
        array(text, "sigmoid(x)"), [0.26894142, 0.73105858, 0.88079708], atol=5e-9
    )
    np.testing.assert_array_equal(array(text, "step_function(x)"), [0, 1, 1])
    # h(x) = 2x three times is 8x.
    x = array(text, "x for the linear h")
    np.testing.assert_array_equal(x, [-2, -1, 0, 1, 2])
    np.testing.assert_array_equal(array(text, "h(h(h(x))) with h(x) = 2x"), 8 * x)
    assert number(text, "max |h(h(h(x))) - c**3 x|") == 0.0
    # Every derivative agrees with the central difference (h = 1e-4: error ~1e-8 or less).
    diffs = [float(v) for v in re.findall(r"max \|grad - numerical_diff\| = (\S+)", text)]
    assert len(diffs) == 8
    assert max(diffs) < 1e-7
    # Seed 001: print(step_function(1)) gives 1; the sigmoid sampled at steps 0.1, 1, 2.
    assert number(text, "print(step_function(1))") == 1
    for step, points in (("0.1", 100), ("1", 10), ("2", 5)):
        assert f"np.arange(-5.0, 5.0, {step}): {points} points" in text
    np.testing.assert_array_equal(array(text, "x = np.arange(-5.0, 5.0, 2)"), [-5, -3, -1, 1, 3])
    e = np.exp(-np.array([-5.0, -3.0, -1.0, 1.0, 3.0]))
    np.testing.assert_allclose(array(text, "sigmoid(x)", last=True), 1 / (1 + e), atol=5e-9)
    np.testing.assert_allclose(
        array(text, "sigmoid([1.0, 2.0, 3.0]), element by element"),
        1 / (1 + np.exp(-np.array([1.0, 2.0, 3.0]))),
        atol=5e-9,
    )
    assert "then (0.1, 1)" in text  # the two samples the plotted line joins
    assert number(text, "max |S(x) - (1 - S(-x))| on [-10, 10]") < 1e-15
    # Seed 003's SELU(x; alpha) has no scale: -alpha (1 - 1/e) and 1 at x = -1, 1.
    np.testing.assert_allclose(
        array(text, "seed 003's SELU(x; alpha=1.6733) = selu(x, scale=1.0)"),
        [1.6732632423543772 * (np.exp(-1) - 1), 1.0],
        atol=5e-9,
    )
    np.testing.assert_allclose(
        array(text, "selu(x) (PyTorch/Keras: scale 1.0507, alpha 1.6733)"),
        [1.0507009873554805 * 1.6732632423543772 * (np.exp(-1) - 1), 1.0507009873554805],
        atol=5e-9,
    )
    y = np.exp([0.3, 2.9, 4.0]) / np.exp([0.3, 2.9, 4.0]).sum()
    np.testing.assert_allclose(
        array(text, "softmax Jacobian at a = [0.3, 2.9, 4.0]"),
        np.diag(y) - np.outer(y, y),
        atol=5e-9,
    )


def test_ch03_network(backend, tmp_path, monkeypatch, capsys):
    text = run_example("ch03_network", backend, tmp_path, monkeypatch, capsys)
    np.testing.assert_array_equal(array(text, "A @ B"), [[19, 22], [43, 50]])
    np.testing.assert_array_equal(array(text, "A @ B (2x3 @ 3x2 -> 2x2)"), [[22, 28], [49, 64]])
    np.testing.assert_array_equal(array(text, "Y = X @ W"), [5, 11, 17])
    assert "A @ C with shapes (2, 3) @ (2, 2) fails" in text
    # Seed 000: B @ A differs from A @ B; its np.dot(A, B) needs a 3-element A.
    np.testing.assert_array_equal(array(text, "B @ A (seed 000: AB != BA)"), [[23, 34], [31, 46]])
    assert "seed 000's np.dot(A, B) with A = [1 2 3 4], B of shape (3, 2) fails" in text
    np.testing.assert_array_equal(array(text, "with A = [1 2 3] it gives"), [22, 28])
    # Seed 001's broadcasting.
    np.testing.assert_array_equal(array(text, "np.arange(3) + 5"), [5, 6, 7])
    np.testing.assert_array_equal(array(text, "np.ones((3, 3)) + np.arange(3)"), [[1, 2, 3]] * 3)
    np.testing.assert_array_equal(
        array(text, "np.arange(3).reshape((3, 1)) + np.arange(3)"),
        [[0, 1, 2], [1, 2, 3], [2, 3, 4]],
    )
    # Seed 003's network, by hand: X W1 = [4, 3, -2]; linear Y = [2, 1]; ReLU Y = [2, 3].
    np.testing.assert_array_equal(array(text, "X @ W1 + B1"), [4, 3, -2])
    np.testing.assert_array_equal(array(text, "Y, linear (no activation)"), [2, 1])
    np.testing.assert_array_equal(array(text, "ReLU(X @ W1 + B1)"), [4, 3, 0])
    np.testing.assert_array_equal(array(text, "Y with ReLU in the hidden layer"), [2, 3])
    # The book's 3-layer network, section 3.4.3.
    book_y = [0.31682708, 0.69627909]
    np.testing.assert_allclose(array(text, "forward pass, y"), book_y, atol=5e-9)
    np.testing.assert_allclose(array(text, "dl.forward(dl.init_network(), x)"), book_y, atol=5e-9)
    np.testing.assert_allclose(
        array(text, "a batch of 3 inputs, dl.forward")[:2], [book_y, book_y], atol=5e-9
    )
    # Section 3.5.1 and 3.5.2.
    np.testing.assert_allclose(
        array(text, "softmax(a)"), [0.01821127, 0.24519181, 0.73659691], atol=5e-9
    )
    assert number(text, "sum(softmax(a))") == pytest.approx(1.0, abs=1e-12)
    assert np.isnan(array(text, "naive exp(a) / sum(exp(a))")).all()
    shifted = [9.99954600e-01, 4.53978686e-05, 2.06106005e-09]
    np.testing.assert_allclose(array(text, "dl.softmax(a)"), shifted, rtol=1e-7)
    np.testing.assert_allclose(array(text, "exp(a - max(a)) / sum(...)"), shifted, rtol=1e-7)
    if backend.name in ("numpy", "numba", "array_api_strict"):
        assert "caught RuntimeWarning: " in text
        assert "overflow encountered in exp" in text


def test_ch03_mnist(backend, tmp_path, monkeypatch, capsys):
    text = run_example("ch03_mnist", backend, tmp_path, monkeypatch, capsys)
    assert "x_test: shape (10000, 784)" in text
    assert "\nAccuracy:0.9352\n" in text  # the book's line with its sample_weight.pkl (seed 002)
    # The first labels of the standard t10k file.
    first = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9, 0, 6, 9, 0, 1, 5, 9, 7, 3, 4, 9, 6, 6, 5, 4, 0, 7, 4]
    np.testing.assert_array_equal(array(text, "labels of the first 32")[: len(first)], first)
    assert number(text, "images") == 500
    single = number(text, "accuracy, image by image")
    batched = number(text, "accuracy, batches of 100")
    assert single == batched  # the same network on the same images
    assert single >= 0.95  # the book's sample network reaches 0.9352; dlcore's ships >= 0.975
    assert number(text, "images/s, image by image") > 0
    assert number(text, "images/s, batches of 100") > 0


def test_ch03_mnist_rejects_a_bad_batch_size(monkeypatch, capsys):
    module = load("ch03_mnist", monkeypatch)
    with pytest.raises(SystemExit) as exc:
        module.main(["--batch-size", "0"])
    assert exc.value.code == 2
    assert "expected a positive integer, got '0'" in capsys.readouterr().err


# -- chapter 4 -----------------------------------------------------------------------


def test_ch04_learning(backend, tmp_path, monkeypatch, capsys):
    text = run_example("ch04_learning", backend, tmp_path, monkeypatch, capsys)
    # Section 4.2.1-4.2.2.
    assert number(text, "sum_squared_error, '2' most likely") == pytest.approx(0.0975, rel=1e-12)
    assert number(text, "sum_squared_error, '7' most likely") == pytest.approx(0.5975, rel=1e-12)
    assert number(text, "cross_entropy_error, '2' most likely") == pytest.approx(
        0.510825457099338, rel=1e-12
    )
    assert number(text, "cross_entropy_error, '7' most likely") == pytest.approx(
        2.302584092994546, rel=1e-12
    )
    # The seeds' mean_squared_error is the book's 0.5 * sum((y - t)**2).
    assert number(text, "mean_squared_error, '2' most likely") == pytest.approx(0.0975, rel=1e-12)
    assert number(text, "mean_squared_error, '7' most likely") == pytest.approx(0.5975, rel=1e-12)
    assert number(text, "-log(0.6)") == 0.51  # seed 002: "결과는 0.51"
    # Section 4.3.3: the book prints these partial derivatives at (3, 4).
    assert number(text, "df/dx0, (x0, x1) = (3, 4)") == pytest.approx(6.00000000000378, rel=1e-13)
    assert number(text, "df/dx1, (x0, x1) = (3, 4)") == pytest.approx(7.999999999999119, rel=1e-13)
    # Section 4.3.2: the book prints these digits (rounding error of the central difference).
    assert number(text, "numerical_diff(function_1, 5)") == pytest.approx(
        0.1999999999990898, rel=1e-13
    )
    assert number(text, "numerical_diff(function_1, 10)") == pytest.approx(
        0.2999999999986347, rel=1e-13
    )
    # Section 4.4.
    np.testing.assert_allclose(array(text, "numerical_gradient(function_2, [3.0, 4.0])"), [6, 8])
    np.testing.assert_allclose(array(text, "numerical_gradient(function_2, [0.0, 2.0])"), [0, 4])
    np.testing.assert_allclose(array(text, "numerical_gradient(function_2, [3.0, 0.0])"), [6, 0])
    # Section 4.4.1: gradient descent from (-3, 4), 100 steps.
    np.testing.assert_allclose(
        array(text, "gradient_descent lr=0.1 (good)"), [-6.11110793e-10, 8.14814391e-10], rtol=1e-6
    )
    np.testing.assert_allclose(
        array(text, "gradient_descent lr=10 (too large)"),
        [-2.58983747e13, -1.29524862e12],
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        array(text, "gradient_descent lr=1e-10 (too small)"), [-2.99999994, 3.99999992], rtol=1e-8
    )
    # Section 4.4.2: simpleNet with the book's W (printed to 8 digits, hence the tolerances).
    np.testing.assert_allclose(
        array(text, "simpleNet predict(x)"), [1.05414809, 0.63071653, 1.1328074], atol=2e-8
    )
    assert number(text, "simpleNet argmax") == 2
    assert number(text, "simpleNet loss") == pytest.approx(0.92806853663411326, rel=1e-6)
    np.testing.assert_allclose(
        array(text, "simpleNet dW"),
        [[0.21924763, 0.14356247, -0.36281009], [0.32887144, 0.2153437, -0.54421514]],
        atol=5e-7,
    )
    # Section 4.5 (quick: 300 iterations on 1,000 images): an untrained net with small
    # weights outputs a near-uniform softmax, so the first loss is about ln(10); it falls.
    assert number(text, "first mini-batch loss") == pytest.approx(np.log(10), abs=0.05)
    assert number(text, "last mini-batch loss") < number(text, "first mini-batch loss") - 0.3
    assert number(text, "final test accuracy") > 0.3  # chance is 0.1
    assert "iteration   300: train acc" in text


# -- chapter 5 -----------------------------------------------------------------------


def test_ch05_backprop(backend, tmp_path, monkeypatch, capsys):
    text = run_example("ch05_backprop", backend, tmp_path, monkeypatch, capsys)
    # Section 5.4.1: two apples at 100, 10% tax.
    book_apple = {"price": 220.0, "dapple": 2.2, "dapple_num": 110.0, "dtax": 200.0}
    for name, expected in book_apple.items():
        assert number(text, f"apple: {name}") == pytest.approx(expected, rel=1e-12)
    # Section 5.4.2: and three oranges at 150.
    book = {
        "price": 715.0,
        "dApple": 2.2,
        "dApple_num": 110.0,
        "dOrange": 3.3,
        "dOrange_num": 165.0,
        "dTax": 650.0,
    }
    for name, expected in book.items():
        assert number(text, name) == pytest.approx(expected, rel=1e-12)
    # Section 5.7.3: backprop agrees with the numerical gradient down to the floor that the
    # book's delta = 1e-7 in the cross-entropy puts under it (about 1e-7 here).
    rows = re.findall(r"^(\w+): mean \|backprop - numerical\| = (\S+), max = (\S+)$", text, re.M)
    assert [r[0] for r in rows] == ["W1", "b1", "W2", "b2"]
    for _, mean, mx in rows:
        assert float(mean) <= float(mx) < 1e-6
    # Seed 003's activations as layers: backward = the central difference of forward.
    layer_rows = re.findall(r"^(\S+)\s+max \|backward - numerical\| = (\S+)$", text, re.M)
    assert [r[0].split("(")[0] for r in layer_rows] == ["Tanh", "LeakyReLU", "PReLU", "ELU", "SELU"]
    assert all(float(d) < 1e-8 for _, d in layer_rows)


# -- the command line ------------------------------------------------------------------


def test_unknown_backend_is_a_usage_error(monkeypatch, capsys):
    module = load("ch02_perceptron", monkeypatch)
    with pytest.raises(SystemExit) as exc:
        module.main(["--backend", "no-such-backend"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "unknown dlcore backend 'no-such-backend'" in err
    assert "numpy" in err


def test_backend_defaults_to_the_environment(monkeypatch):
    common = load("_common", monkeypatch)
    monkeypatch.setenv("DLCORE_BACKEND", " NumPy ")
    assert common.parse_args(None, []).backend == "numpy"
    monkeypatch.delenv("DLCORE_BACKEND")
    args = common.parse_args(None, ["--quick", "--out", "somewhere"])
    assert (args.backend, args.quick, args.out) == ("numpy", True, Path("somewhere"))


def test_readme_lists_every_example_and_figure():
    scripts = sorted(p.stem for p in EXAMPLES.glob("ch*.py"))
    assert scripts == sorted(FIGURES)
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for name, figures in FIGURES.items():
        assert f"`{name}.py`" in readme
        for fig in figures:
            assert f"`{fig}`" in readme


def test_script_runs_as_a_program(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DLCORE_BACKEND"}
    env["MPLBACKEND"] = "Agg"
    script = EXAMPLES / "ch03_network.py"
    result = subprocess.run(
        [sys.executable, str(script), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "forward pass, y: [0.31682708 0.69627909]" in result.stdout


# -- Korean ----------------------------------------------------------------------------

HANGUL = re.compile("[\uac00-\ud7a3]")


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_example_in_korean(name, tmp_path, monkeypatch, capsys, caplog):
    """``--lang ko``: Korean printed lines and figures, the numbers unchanged, no missing glyph."""
    pytest.importorskip("koreanize_matplotlib", reason="the ko extra is not installed")
    module = load(name, monkeypatch)
    with warnings.catch_warnings(record=True) as caught, dlcore.use_backend("numpy"):
        warnings.simplefilter("always")
        code = module.main(
            ["--backend", "numpy", "--quick", "--out", str(tmp_path), "--lang", "ko"]
        )
    text = capsys.readouterr().out
    assert code == 0, text
    assert "백엔드: numpy" in text
    headings = [line for line in text.splitlines() if line.startswith("== ")]
    assert headings
    assert all(HANGUL.search(h) for h in headings), headings  # every section title in Korean
    for fig in FIGURES[name]:
        assert (tmp_path / fig).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    glyphs = [str(w.message) for w in caught if "glyph" in str(w.message).lower()]
    glyphs += [r.getMessage() for r in caplog.records if "glyph" in r.getMessage().lower()]
    assert not glyphs, glyphs
    assert "no Hangul font" not in text
    numbers = {
        "ch02_perceptron": "XOR를 계산하는 퍼셉트론: 0",
        "ch03_activations": "print(step_function(1)): 1",
        "ch03_network": "[22 28]",
        "ch03_mnist": "Accuracy:0.9352",
        "ch04_learning": "df/dx0, (x0, x1) = (3, 4): 6.00000000000378",
        "ch05_backprop": "dTax: 650.0",
    }
    assert numbers[name] in text


def test_korean_figures_fall_back_to_english_without_the_font(tmp_path, monkeypatch, capsys):
    module = load("ch03_network", monkeypatch)
    common = sys.modules["_common"]
    monkeypatch.setattr(common, "use_korean_font", lambda matplotlib: False)
    with dlcore.use_backend("numpy"):
        assert module.main(["--quick", "--out", str(tmp_path), "--lang", "ko"]) == 0
    text = capsys.readouterr().out
    assert 'no Hangul font: figures keep English labels; pip install "dlcore[ko]"' in text
    assert "소프트맥스 오버플로" in text  # the printed lines stay Korean
