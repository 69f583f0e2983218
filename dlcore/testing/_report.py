"""What :func:`dlcore.testing.check_backend` returns: one line per case and dtype."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["BackendCheckError", "BackendReport", "CaseResult"]


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one case on one dtype.

    Attributes
    ----------
    case : str
        What was checked (``"sigmoid"``, ``"kernel bind_predict"``, ...).
    dtype : str
        ``"float32"``, ``"float64"`` or ``"-"`` for dtype-free cases.
    status : {"pass", "fail", "skip"}
    detail : str
        Why it failed or was skipped (empty when it passed).
    """

    case: str
    dtype: str
    status: str
    detail: str = ""


@dataclass
class BackendReport:
    """Every case of a conformance run on one backend and device.

    ``str(report)`` is the readable table that ``dlcore check-backend`` prints.
    """

    backend: str
    device: str
    versions: dict[str, str]
    results: list[CaseResult] = field(default_factory=list)

    @property
    def failures(self) -> list[CaseResult]:
        """The failed cases."""
        return [r for r in self.results if r.status == "fail"]

    @property
    def ok(self) -> bool:
        """Whether no case failed (skipped cases say why in the table)."""
        return not self.failures

    def counts(self) -> dict[str, int]:
        """``{"pass": n, "fail": n, "skip": n}``."""
        out = {"pass": 0, "fail": 0, "skip": 0}
        for r in self.results:
            out[r.status] += 1
        return out

    def summary(self) -> str:
        """One line: backend, device and the counts."""
        c = self.counts()
        verdict = "OK" if self.ok else "FAILED"
        return (
            f"{verdict}: backend {self.backend!r} on {self.device}: {c['pass']} passed, "
            f"{c['fail']} failed, {c['skip']} skipped"
        )

    def __str__(self) -> str:
        libs = ", ".join(f"{k} {v}" for k, v in self.versions.items())
        lines = [f"dlcore conformance check of backend {self.backend!r} on {self.device} ({libs})"]
        width = max((len(r.case) for r in self.results), default=4)
        order = {"fail": 0, "skip": 1, "pass": 2}
        for r in sorted(self.results, key=lambda r: order[r.status]):
            text = f"  {r.status.upper():4}  {r.case:<{width}}  {r.dtype:7}"
            lines.append(f"{text}  {r.detail}".rstrip())
        lines.append(self.summary())
        return "\n".join(lines)


class BackendCheckError(AssertionError):
    """A conformance check failed; ``report`` holds every result and ``str()`` the table."""

    def __init__(self, report: BackendReport) -> None:
        self.report = report
        super().__init__(str(report))
