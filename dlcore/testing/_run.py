"""Run every conformance case on one backend and device."""

from __future__ import annotations

import warnings
from typing import Any

from dlcore.backends import NumbaFallbackWarning, get_backend, use_backend

from . import _cases_functions, _cases_kernels, _cases_networks  # noqa: F401  (they add cases)
from ._checker import CASES, CaseSkipped, Checker, CheckFailed
from ._report import BackendCheckError, BackendReport, CaseResult


def check_backend(name: str, *, device: Any = None, raise_on_failure: bool = True) -> BackendReport:
    """Check a backend against NumPy float64 references: every public function and kernel.

    Each case builds its inputs on the host, moves them to the backend (on
    ``device``), calls dlcore's public functions and the backend's hot-loop
    methods (``bind_predict``, ``mlp_gradient``, ``mlp_numerical_gradient``,
    ``numerical_gradient``), and checks that every result is an array of the
    backend with the expected shape, the input's dtype (float32 and float64)
    and device, and the reference's values; mixed libraries and devices must
    raise.

    Parameters
    ----------
    name : str
        A registered backend name (built in or from the ``dlcore.backends``
        entry point).
    device : optional
        The device to check on (see :func:`dlcore.use_backend`); default: the
        library's.
    raise_on_failure : bool
        Raise :class:`BackendCheckError` (whose message is the report) when a
        case fails; otherwise just return the report.

    Returns
    -------
    BackendReport
        One result per case and dtype; ``str(report)`` is a readable table.

    Raises
    ------
    BackendCheckError
        A case failed (and ``raise_on_failure``).

    Examples
    --------
    >>> from dlcore.testing import check_backend
    >>> report = check_backend("numpy")
    >>> report.ok, report.counts()["fail"]
    (True, 0)
    """
    backend = get_backend(name, device=device)
    report = BackendReport(
        backend=backend.name,
        device=backend.device_label(backend.device),
        versions=backend.versions(),
    )
    with use_backend(name, device=device), warnings.catch_warnings():
        warnings.simplefilter("ignore", NumbaFallbackWarning)  # Python f on numba: the loop
        for case in CASES:
            for dtype in case.dtypes:
                report.results.append(_run_one(case.name, case.run, backend, dtype))
    if raise_on_failure and not report.ok:
        raise BackendCheckError(report)
    return report


def _run_one(name: str, run: Any, backend: Any, dtype: str) -> CaseResult:
    try:
        run(Checker(backend, None if dtype == "int64" else dtype))
    except CaseSkipped as exc:
        return CaseResult(name, dtype, "skip", str(exc))
    except CheckFailed as exc:
        return CaseResult(name, dtype, "fail", str(exc))
    except Exception as exc:  # a crash in a case is a failure of the backend, reported
        return CaseResult(name, dtype, "fail", f"raised {type(exc).__name__}: {exc}")
    return CaseResult(name, dtype, "pass")
