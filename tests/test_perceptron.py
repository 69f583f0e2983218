"""Perceptron gates: the book's truth tables (section 2.3, 2.5) on scalars and arrays."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import assert_close

import dlcore

INPUTS = [(0, 0), (1, 0), (0, 1), (1, 1)]
TABLES = {
    "AND": [0, 0, 0, 1],
    "NAND": [1, 1, 1, 0],
    "OR": [0, 1, 1, 1],
    "XOR": [0, 1, 1, 0],
}


@pytest.mark.parametrize("gate", sorted(TABLES))
def test_truth_tables_scalars(gate):
    fn = getattr(dlcore, gate)
    got = [fn(a, b) for a, b in INPUTS]
    assert got == TABLES[gate]
    assert all(type(v) is int for v in got)


@pytest.mark.parametrize("gate", sorted(TABLES))
def test_truth_tables_arrays(backend, gate):
    fn = getattr(dlcore, gate)
    x1 = backend.asarray(np.array([a for a, _ in INPUTS]))
    x2 = backend.asarray(np.array([b for _, b in INPUTS]))
    out = fn(x1, x2)
    assert backend.owns(out)
    np.testing.assert_array_equal(dlcore.to_numpy(out), TABLES[gate])


def test_perceptron_class(backend):
    p = dlcore.Perceptron([0.5, 0.5], -0.7)
    assert repr(p) == "Perceptron(w=[0.5, 0.5], b=-0.7)"
    x = backend.asarray(np.array([[0.0, 1.0], [1.0, 1.0]]))
    out = p(x[:, 0], x[:, 1])
    assert_close(out, [0, 1])
    three = dlcore.Perceptron(np.array([1.0, 1.0, 1.0]), -2.5)
    assert [three(1, 1, 1), three(1, 1, 0)] == [1, 0]


def test_bad_inputs():
    with pytest.raises(ValueError, match="0 and 1"):
        dlcore.AND(2, 0)
    with pytest.raises(ValueError, match="0 and 1"):
        dlcore.XOR(np.array([0, 2]), np.array([1, 1]))
    with pytest.raises(TypeError, match="2 inputs, got 3"):
        dlcore.Perceptron([1, 1], 0)(1, 1, 1)
    with pytest.raises(ValueError, match="at least one weight"):
        dlcore.Perceptron([], 0)
    with pytest.raises(TypeError, match="numbers or arrays"):
        dlcore.Perceptron([1], 0)("1")
