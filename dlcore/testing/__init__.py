"""Conformance kit for dlcore backends: is a (third-party) backend right?

>>> from dlcore.testing import check_backend
>>> print(check_backend("numpy").summary())  # doctest: +ELLIPSIS
OK: backend 'numpy' on cpu: ... passed, 0 failed, ... skipped

:func:`check_backend` runs every public maths function and every hot-loop
kernel of a backend against NumPy float64 references written from the
formulas (values, dtype kept, shapes, device kept, errors on mixed inputs)
and returns a :class:`BackendReport`; ``dlcore check-backend NAME`` prints it.
"""

from __future__ import annotations

from ._report import BackendCheckError, BackendReport, CaseResult
from ._run import check_backend

__all__ = ["BackendCheckError", "BackendReport", "CaseResult", "check_backend"]
