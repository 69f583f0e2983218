"""Input handling shared by every dlcore function.

Maths functions take the array namespace from their inputs. Python scalars
and sequences (which have no namespace) become arrays of the active backend;
arrays of two different libraries or devices in one call are refused with a
message that says how to move data.
"""

from __future__ import annotations

import math
import numbers
import operator
import sys
from typing import Any

import numpy as np
from array_api_compat import array_namespace, device, is_array_api_obj

__all__ = [
    "as_array",
    "check_count",
    "check_float",
    "check_positive_int",
    "check_positive_number",
    "check_real",
    "check_same_shape",
    "is_float_dtype",
    "namespace",
    "progress_bar",
]


def _library(x: Any) -> str:
    return type(x).__module__.split(".")[0]


def namespace(*arrays: Any) -> Any:
    """The common Array-API namespace of ``arrays`` (``None`` entries ignored).

    Raises
    ------
    TypeError
        The arrays come from different libraries.
    ValueError
        The arrays live on different devices.
    """
    arrs = [a for a in arrays if a is not None and is_array_api_obj(a)]
    try:
        xp = array_namespace(*arrs)
    except TypeError as exc:
        libs = sorted({_library(a) for a in arrs})
        msg = (
            f"arrays from different libraries in one call ({' and '.join(libs)}); move them to "
            "one backend first, e.g. dlcore.asarray(x, backend='numpy') or dlcore.to_numpy(x)"
        )
        raise TypeError(msg) from exc
    devices: list[Any] = []
    for a in arrs:
        d = device(a)
        if all(d != seen for seen in devices):
            devices.append(d)
    if len(devices) > 1:
        msg = (
            f"arrays on different devices in one call ({', '.join(map(str, devices))}); move them "
            "to one device first, e.g. with dlcore.asarray(x) on the active backend"
        )
        raise ValueError(msg)
    return xp


def as_array(x: Any, name: str = "x", *, float_default: bool = True, like: Any = None) -> Any:
    """Return ``x`` if it is an array; turn Python data into an array.

    Python data becomes an array of ``like``'s library and device when
    ``like`` is an array (``cross_entropy_error(y, [0, 1])`` with a PyTorch
    ``y``), else of the active backend. Python ints in a sequence become a
    float dtype when ``float_default`` is true (``softmax([1010, 1000,
    990])`` works): ``like``'s if it is floating, else float64, since Python
    data carries no dtype of its own. Arrays are returned unchanged: their
    dtype is the caller's decision and is checked, not coerced.
    """
    if is_array_api_obj(x):
        return x
    if isinstance(x, (str, bytes, dict, set)) or x is None:
        msg = f"`{name}` must be an array or a number/sequence of numbers, got {type(x).__name__}"
        raise TypeError(msg)
    if like is not None and is_array_api_obj(like):
        xp = array_namespace(like)
        target = like.dtype if is_float_dtype(xp, like.dtype) else xp.float64

        def convert(data: Any) -> Any:
            return xp.asarray(data, device=device(like))
    else:
        from dlcore.backends import get_backend

        backend = get_backend()
        xp, target, convert = backend.xp, backend.xp.float64, backend.asarray
    try:
        arr = convert(x)
    except (TypeError, ValueError, OverflowError) as exc:
        msg = f"`{name}` could not be converted to an array ({exc}); pass a rectangular array"
        raise TypeError(msg) from exc
    if float_default and not is_float_dtype(xp, arr.dtype):
        arr = xp.astype(arr, target)
    return arr


def is_float_dtype(xp: Any, dtype: Any) -> bool:
    """Whether ``dtype`` is a plain real floating-point dtype of namespace ``xp``.

    A NumPy float dtype that carries fields or a subarray (``np.dtype((np.float64,
    {"a": (np.float64, 0)}))``) is not: it reads memory a plain float does not.
    """
    if getattr(dtype, "fields", None) is not None or getattr(dtype, "subdtype", None):
        return False
    return bool(xp.isdtype(dtype, "real floating"))


def check_float(xp: Any, x: Any, name: str = "x") -> None:
    """Raise ``TypeError`` unless ``x`` has a real floating-point dtype."""
    if not is_float_dtype(xp, x.dtype):
        msg = (
            f"`{name}` must have a real floating-point dtype (float32 or float64), got {x.dtype}; "
            f"convert it first, e.g. {name}.astype('float64') or dlcore.asarray({name}, "
            "dtype='float64')"
        )
        raise TypeError(msg)


def check_same_shape(y: Any, t: Any, names: tuple[str, str] = ("y", "t")) -> None:
    """Raise ``ValueError`` unless ``y`` and ``t`` have the same shape."""
    if tuple(y.shape) != tuple(t.shape):
        msg = (
            f"`{names[0]}` and `{names[1]}` must have the same shape, got "
            f"{tuple(y.shape)} and {tuple(t.shape)}"
        )
        raise ValueError(msg)


def check_count(value: Any, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as an ``int`` if it is an integer >= ``minimum`` (NumPy integers too).

    Raises
    ------
    TypeError
        ``value`` is not an integer (``bool``, ``float`` and ``str`` are refused).
    ValueError
        ``value`` is below ``minimum``.

    Examples
    --------
    >>> import numpy as np
    >>> check_count(np.int64(3), "batch_size")
    3
    """
    want = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
    number = None
    if not isinstance(value, (bool, np.bool_)):
        try:
            number = operator.index(value)
        except TypeError:
            number = None
    if number is None:
        msg = f"`{name}` must be {want}, got {value!r} ({type(value).__name__})"
        raise TypeError(msg)
    if number < minimum:
        msg = f"`{name}` must be {want}, got {number}"
        raise ValueError(msg)
    return int(number)


def check_positive_int(value: Any, name: str) -> int:
    """:func:`check_count` with ``minimum=1``: a positive integer such as a size or a count."""
    return check_count(value, name, minimum=1)


def check_positive_number(value: Any, name: str, *, below: float | None = None) -> float:
    """Return ``value`` as a ``float`` if it is a finite real number > 0 (and < ``below``).

    Python and NumPy numbers are accepted (``np.float32(1e-4)``); ``bool`` is not.

    Raises
    ------
    TypeError
        ``value`` is not a real number.
    ValueError
        ``value`` is not finite, not > 0 or not below ``below``.

    Examples
    --------
    >>> import numpy as np
    >>> check_positive_number(np.float32(0.5), "h")
    0.5
    """
    bound = f" and below {below}" if below is not None else ""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        kind = type(value).__name__
        msg = f"`{name}` must be a positive finite number{bound}, got {value!r} ({kind})"
        raise TypeError(msg)
    number = float(value)
    if not (math.isfinite(number) and number > 0 and (below is None or number < below)):
        msg = f"`{name}` must be a positive finite number{bound}, got {value!r}"
        raise ValueError(msg)
    return number


def check_real(value: Any, name: str) -> float:
    """Return ``value`` as a ``float`` if it is a finite real number (NumPy numbers too).

    Raises
    ------
    TypeError
        ``value`` is not a real number (``bool`` and ``str`` are refused).
    ValueError
        ``value`` is NaN or infinite.

    Examples
    --------
    >>> import numpy as np
    >>> check_real(np.float32(0.5), "lr")
    0.5
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        msg = f"`{name}` must be a finite real number, got {value!r} ({type(value).__name__})"
        raise TypeError(msg)
    number = float(value)
    if not math.isfinite(number):
        msg = f"`{name}` must be a finite real number, got {value!r}"
        raise ValueError(msg)
    return number


def progress_bar(total: int | None, *, enabled: bool = True, **options: Any) -> Any:
    """A tqdm progress bar on stderr, or ``None`` when disabled or tqdm is not installed.

    ``options`` go to ``tqdm`` (``desc``, ``unit``, ``unit_scale``, ...).
    """
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    options.setdefault("file", sys.stderr)
    options.setdefault("leave", False)
    return tqdm(total=total, **options)
