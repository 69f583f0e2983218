"""The public API: __all__ complete, sorted and importable; names from the book present."""

from __future__ import annotations

import dlcore

BOOK_NAMES = {
    "identity_function", "step_function", "sigmoid", "sigmoid_grad", "relu", "relu_grad",
    "tanh", "tanh_grad", "leaky_relu", "leaky_relu_grad", "prelu", "prelu_grad", "elu",
    "elu_grad", "selu", "selu_grad", "softmax", "sum_squared_error", "mean_squared_error",
    "cross_entropy_error", "softmax_loss", "AND", "NAND", "OR", "XOR", "Perceptron",
    "numerical_diff", "numerical_gradient", "gradient_descent", "available_backends",
    "get_backend", "set_backend", "use_backend", "asarray", "to_numpy",
}  # fmt: skip


def _isort_key(name: str) -> tuple[int, str]:
    # ruff's RUF022 order: CONSTANTS, then CamelCase, then the rest
    if name.isupper():
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def test_all_is_sorted_and_unique():
    assert len(set(dlcore.__all__)) == len(dlcore.__all__)
    assert list(dlcore.__all__) == sorted(dlcore.__all__, key=_isort_key)


def test_all_names_importable():
    for name in dlcore.__all__:
        assert getattr(dlcore, name) is not None, name


def test_all_is_complete():
    public = {
        n for n, v in vars(dlcore).items()
        if not n.startswith("_") and not isinstance(v, type(dlcore)) and n != "annotations"
    }  # fmt: skip
    assert public <= set(dlcore.__all__), public - set(dlcore.__all__)


def test_book_names_present():
    assert set(dlcore.__all__) >= BOOK_NAMES


def test_public_functions_have_docstrings_with_examples():
    """numpydoc with an Examples section (run as a doctest) on every public callable."""
    missing = []
    for name in dlcore.__all__:
        obj = getattr(dlcore, name)
        if name.startswith("_") or not callable(obj):
            continue
        if isinstance(obj, type) and issubclass(obj, BaseException):
            continue  # exceptions document when they are raised, not how to call them
        doc = obj.__doc__ or ""
        if "Examples\n" not in doc or ">>> " not in doc:
            missing.append(name)
    assert not missing, f"public names without an Examples doctest: {missing}"
