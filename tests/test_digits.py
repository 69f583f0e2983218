"""The learner's own digits: drawn PNG/JPEG files and .npy arrays, converted like MNIST."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import dlcore
from dlcore.cli import main
from dlcore.digits import load_digits, mnist_like

Image = pytest.importorskip("PIL.Image", reason="the images extra (Pillow) is not installed")
ImageDraw = pytest.importorskip("PIL.ImageDraw")


def draw(digit: int, *, ink: int = 0, paper: int = 255, size=(240, 320), width=22):
    """A digit drawn with strokes, as a learner would in a paint program (ink on paper)."""
    im = Image.new("L", size, paper)
    d = ImageDraw.Draw(im)
    w, h = size
    if digit == 0:
        d.ellipse([w * 0.2, h * 0.15, w * 0.8, h * 0.85], outline=ink, width=width)
    elif digit == 1:
        d.line([(w * 0.5, h * 0.15), (w * 0.5, h * 0.85)], fill=ink, width=width)
    elif digit == 4:
        pts = [(w * 0.6, h * 0.85), (w * 0.6, h * 0.15), (w * 0.2, h * 0.6), (w * 0.8, h * 0.6)]
        d.line(pts, fill=ink, width=width)
    elif digit == 7:
        pts = [(w * 0.2, h * 0.2), (w * 0.8, h * 0.2), (w * 0.4, h * 0.85)]
        d.line(pts, fill=ink, width=width, joint="curve")
    return im


def _com(x: np.ndarray) -> tuple[float, float]:
    img = x.reshape(28, 28)
    r, c = np.indices(img.shape)
    return float((r * img).sum() / img.sum()), float((c * img).sum() / img.sum())


def test_an_mnist_digit_blown_up_and_inverted_comes_back():
    """A real test digit, 4x larger and printed black on white, converts back close to itself."""
    x, t = dlcore.load_mnist_test(normalize=True, flatten=True)
    net = dlcore.load_sample_network()
    originals = dlcore.to_numpy(x[:20, ...])
    for orig in originals:
        big = np.kron(orig.reshape(28, 28), np.ones((4, 4)))
        back = mnist_like(np.round(255 * (1 - big)).astype(np.uint8))
        assert float(back.min()) >= 0.0
        assert 0.9 < float(back.max()) <= 1.0
        assert max(abs(a - 14.0) for a in _com(back)) <= 0.5  # centred by mass, as MNIST
        assert np.corrcoef(back, orig)[0, 1] > 0.99  # the same digit, pixel for pixel
    converted = np.stack([
        mnist_like(np.round(255 * (1 - np.kron(o.reshape(28, 28), np.ones((4, 4))))))
        for o in originals
    ])  # fmt: skip
    same = np.argmax(dlcore.to_numpy(dlcore.predict(net, dlcore.asarray(converted))), axis=1)
    labels = dlcore.to_numpy(t[:20])
    assert np.mean(same == labels) >= 0.9


def test_bounding_box_fits_20_pixels_keeping_aspect():
    tall = np.zeros((300, 60))
    tall[:, :] = 1.0
    tall = np.pad(tall, 20)
    x = mnist_like(tall).reshape(28, 28)
    rows, cols = np.nonzero(x > 0.5)
    assert rows.max() - rows.min() + 1 == 20
    assert 3 <= cols.max() - cols.min() + 1 <= 5  # 60/300 of 20 = 4


@pytest.mark.parametrize("inverted", [False, True])
def test_drawn_png_digits_are_classified(tmp_path: Path, capsys, inverted):
    paths = []
    for digit in (0, 1, 4, 7):
        path = tmp_path / f"my_{digit}.png"
        draw(digit, ink=255 if inverted else 0, paper=0 if inverted else 255).save(path)
        paths.append(str(path))
    assert main(["infer", "--images", *paths]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[1].split()[0] for line in lines] == ["0", "1", "4", "7"]
    assert all("(top 3: " in line for line in lines)


def test_jpeg_colour_and_transparent_png(tmp_path: Path, capsys):
    rgb = draw(7).convert("RGB")
    rgb.save(tmp_path / "seven.jpg", quality=85)
    rgba = Image.new("RGBA", (200, 260), (0, 0, 0, 0))  # transparent, ink drawn in blue
    ImageDraw.Draw(rgba).line([(100, 30), (100, 230)], fill=(20, 20, 200, 255), width=20)
    rgba.save(tmp_path / "one.png")
    argv = ["infer", "--weights", "book", "--images", str(tmp_path / "seven.jpg"),
            str(tmp_path / "one.png")]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "seven.jpg: 7" in out
    assert "one.png: 1" in out


def test_npy_digits(tmp_path: Path, capsys):
    x, _ = dlcore.load_mnist_test(normalize=False, flatten=False)
    first = dlcore.to_numpy(x[:3, ...]).reshape(3, 28, 28).astype(np.uint8)  # labels 7, 2, 1
    np.save(tmp_path / "three.npy", first)
    np.save(tmp_path / "one.npy", first[2].reshape(784) / 255.0)
    assert main(["infer", "--images", str(tmp_path / "three.npy"), str(tmp_path / "one.npy")]) == 0
    out = capsys.readouterr().out
    assert "three.npy[0]: 7" in out
    assert "three.npy[1]: 2" in out
    assert "three.npy[2]: 1" in out
    assert "one.npy: 1" in out
    np.testing.assert_allclose(load_digits([tmp_path / "one.npy"])[0], first[2].reshape(784) / 255)


def test_bad_images_say_what_is_wrong(tmp_path: Path, capsys):
    Image.new("L", (50, 50), 255).save(tmp_path / "blank.png")
    (tmp_path / "junk.png").write_bytes(b"not a png")
    np.save(tmp_path / "wrong.npy", np.zeros((5, 5)))
    cases = {
        "blank.png": "the image is blank",
        "junk.png": "not a readable image",
        "wrong.npy": "must have shape (784,), (28, 28)",
        "missing.png": "no image file at",
    }
    for name, message in cases.items():
        assert main(["infer", "--images", str(tmp_path / name)]) == 1
        err = capsys.readouterr().err
        assert message in err, err
        assert err.count("\n") == 1, err  # one line, no traceback


def test_without_pillow_the_message_names_the_extra(tmp_path: Path, monkeypatch):
    draw(1).save(tmp_path / "one.png")
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r'pip install "dlcore\[images\]"'):
        load_digits([tmp_path / "one.png"])
