"""Loss functions of the book's chapter 4.

``y`` is the network output (probabilities for cross-entropy), ``t`` the
target. A 1-D ``y`` is one sample; with more dimensions the last axis holds
the classes and every leading axis is a batch axis, and the loss is the mean
over the batch (the book's ``/ batch_size``).
"""

from __future__ import annotations

from typing import Any

from ._validate import as_array, check_float, check_same_shape, namespace
from .activations import softmax

__all__ = [
    "CROSS_ENTROPY_DELTA",
    "cross_entropy_error",
    "mean_squared_error",
    "softmax_loss",
    "sum_squared_error",
]

#: Added inside the log so that ``log(0)`` never happens (the book's ``delta``).
CROSS_ENTROPY_DELTA = 1e-7


def _pair(y: Any, t: Any) -> tuple[Any, Any, Any]:
    y = as_array(y, "y")
    t = as_array(t, "t", like=y)
    xp = namespace(y, t)
    check_float(xp, y, "y")
    check_float(xp, t, "t")
    check_same_shape(y, t)
    if y.ndim == 0:
        msg = "`y` must have at least one axis (the outputs of one sample), got a 0-d array"
        raise ValueError(msg)
    return xp, y, t


def _batch_size(y: Any) -> int:
    """The number of samples; an empty batch (or no outputs) is an error, not NaN."""
    n = 1
    for d in y.shape[:-1]:
        n *= int(d)
    if n == 0 or int(y.shape[-1]) == 0:
        msg = (
            f"`y` has shape {tuple(y.shape)}: an empty batch has no mean loss; pass at "
            "least one sample with at least one output"
        )
        raise ValueError(msg)
    return n


def sum_squared_error(y: Any, t: Any, /) -> Any:
    """Sum of squared errors, the book's ``0.5 * sum((y - t)**2)``.

    Parameters
    ----------
    y, t : array
        Output and target of the same shape and floating dtype. The last
        axis holds the outputs of one sample; leading axes are batch axes.

    Returns
    -------
    0-d array
        ``0.5 * sum((y - t)**2)`` for one sample; the mean of that over the
        samples of a batch.

    Notes
    -----
    .. math:: E = \\frac{1}{2} \\sum_k (y_k - t_k)^2

    The Korean and Japanese editions call this "mean squared error"
    (``mean_squared_error`` in the book's code): :func:`mean_squared_error`
    is the same function.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0], dtype=float)
    >>> y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    >>> float(dlcore.sum_squared_error(y, t))
    0.0975
    """
    xp, y, t = _pair(y, t)
    n = _batch_size(y)
    d = y - t
    return 0.5 * xp.sum(d * d) / n


def mean_squared_error(y: Any, t: Any, /) -> Any:
    """The book's "mean squared error", ``0.5 * sum((y - t)**2)`` (the seeds' definition).

    The same function as :func:`sum_squared_error` (the English edition's
    name): the book's ``mean_squared_error`` and the seeds' formula
    :math:`E = \\frac{1}{2} \\sum_k (y_k - t_k)^2` give 0.0975 on the book's
    example, so dlcore's does too.

    Notes
    -----
    PyTorch (``MSELoss``) and scikit-learn mean the average over every
    element, :math:`\\frac{1}{N} \\sum_i (y_i - t_i)^2` (0.0195 on the same
    example); that is ``xp.mean((y - t)**2)``.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0], dtype=float)
    >>> y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    >>> round(float(dlcore.mean_squared_error(y, t)), 6)
    0.0975
    """
    return sum_squared_error(y, t)


def _one_hot_mask(xp: Any, y: Any, t: Any) -> Any:
    """Validate integer labels ``t`` against ``y`` and return a boolean one-hot mask."""
    if tuple(t.shape) != tuple(y.shape[:-1]):
        msg = (
            f"integer labels `t` must have shape y.shape[:-1] = {tuple(y.shape[:-1])} (one class "
            f"index per sample), got {tuple(t.shape)}; pass one-hot labels with y's shape instead"
        )
        raise ValueError(msg)
    n_classes = int(y.shape[-1])
    if t.ndim and t.size:
        lo, hi = int(xp.min(t)), int(xp.max(t))
    elif t.ndim == 0:
        lo = hi = int(t)
    else:
        lo, hi = 0, 0
    if lo < 0 or hi >= n_classes:
        bad = lo if lo < 0 else hi
        msg = (
            f"class label {bad} is out of range for {n_classes} classes "
            f"(expected 0..{n_classes - 1})"
        )
        raise ValueError(msg)
    classes = xp.arange(n_classes, dtype=t.dtype, device=getattr(t, "device", None))
    return xp.expand_dims(t, axis=-1) == classes


def _integer_one_hot(xp: Any, y: Any, t: Any) -> Any:
    """Integer targets with ``y``'s shape: one-hot 0/1 (the book's ``np.eye(10, dtype=int)``)."""
    if t.size and (int(xp.min(t)) < 0 or int(xp.max(t)) > 1):
        msg = (
            f"integer `t` with y's shape {tuple(y.shape)} is read as one-hot targets and must "
            f"hold only 0 and 1, got values {int(xp.min(t))}..{int(xp.max(t))}; for class "
            "indices pass shape y.shape[:-1]"
        )
        raise ValueError(msg)
    return xp.astype(t, y.dtype)


def cross_entropy_error(y: Any, t: Any, /) -> Any:
    """Cross-entropy of predicted probabilities ``y`` against labels ``t``.

    Parameters
    ----------
    y : array
        Probabilities (e.g. the output of :func:`softmax`); the last axis holds
        the classes, leading axes are batch axes.
    t : array
        Either one-hot (or any probability) targets with ``y``'s shape
        (floating, or integer 0/1 such as ``np.eye(10, dtype=int)[labels]``),
        or integer class labels with shape ``y.shape[:-1]``. Python data
        becomes an array of ``y``'s library.

    Returns
    -------
    0-d array
        The mean over the batch of ``-sum(t * log(y + 1e-7))``.

    Notes
    -----
    .. math:: E = -\\frac{1}{N} \\sum_n \\sum_k t_{nk} \\log(y_{nk} + \\delta),
              \\quad \\delta = 10^{-7}

    :math:`\\delta` keeps ``log(0) = -inf`` away, as in the book; it also
    biases the loss slightly, so a backprop gradient (which ignores it)
    differs from the numerical one by about :math:`\\delta / y`.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0], dtype=float)
    >>> y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    >>> round(float(dlcore.cross_entropy_error(y, t)), 6)
    0.510825
    >>> round(float(dlcore.cross_entropy_error(y, np.asarray(2))), 6)
    0.510825
    """
    y = as_array(y, "y")
    t = as_array(t, "t", float_default=False, like=y)
    xp = namespace(y, t)
    check_float(xp, y, "y")
    if y.ndim == 0:
        msg = "`y` must have at least one axis (the classes), got a 0-d array"
        raise ValueError(msg)
    n = _batch_size(y)
    if xp.isdtype(t.dtype, "bool") and tuple(t.shape) == tuple(y.shape):
        t = xp.astype(t, y.dtype)
    elif xp.isdtype(t.dtype, "integral") and tuple(t.shape) == tuple(y.shape):
        t = _integer_one_hot(xp, y, t)
    log_y = xp.log(y + CROSS_ENTROPY_DELTA)
    if xp.isdtype(t.dtype, "integral"):
        mask = _one_hot_mask(xp, y, t)
        total = xp.sum(xp.where(mask, log_y, xp.zeros_like(log_y)))
    elif xp.isdtype(t.dtype, "real floating"):
        if tuple(t.shape) != tuple(y.shape):
            msg = (
                f"one-hot `t` must have y's shape {tuple(y.shape)}, got {tuple(t.shape)}; for "
                "class indices pass an integer array of shape y.shape[:-1]"
            )
            raise ValueError(msg)
        total = xp.sum(t * log_y)
    else:
        msg = f"`t` must be integer class labels or floating one-hot targets, got dtype {t.dtype}"
        raise TypeError(msg)
    return -total / n


def softmax_loss(x: Any, t: Any, /) -> Any:
    """Softmax followed by cross-entropy: ``cross_entropy_error(softmax(x), t)``.

    ``x`` are scores (logits); ``t`` as in :func:`cross_entropy_error`. Its
    gradient with respect to ``x`` is ``(softmax(x) - t) / batch_size``
    (the book's ``SoftmaxWithLoss``).

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> round(float(dlcore.softmax_loss(np.array([0.0, 0.0]), np.array([1.0, 0.0]))), 6)
    0.693147
    """
    return cross_entropy_error(softmax(x), t)
