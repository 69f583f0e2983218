"""Test helpers shared by the test modules (import them from here, never from conftest)."""

from __future__ import annotations

from typing import Any

import numpy as np

import dlcore


def tol(dtype: Any) -> float:
    """Relative tolerance from the dtype: about 4 * sqrt(eps)."""
    name = str(dtype).rsplit(".", 1)[-1]
    eps = float(np.finfo(np.float32 if "32" in name else np.float64).eps)
    return 4 * eps**0.5


def assert_close(
    actual: Any, expected: Any, *, rtol: float | None = None, atol: float = 0.0
) -> None:
    """Compare a backend array with a NumPy reference (tolerance from actual's dtype)."""
    got = dlcore.to_numpy(actual)
    rtol = tol(got.dtype) if rtol is None else rtol
    np.testing.assert_allclose(got, np.asarray(expected), rtol=rtol, atol=atol)


def one_line_error(capsys: Any, argv: list[str]) -> str:
    """Run ``dlcore ARGV``; assert exit 1 and one ``dlcore CMD: error: ...`` line, no traceback."""
    from dlcore.cli import main

    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    assert err.startswith(f"dlcore {argv[0]}: error: ")
    return err
