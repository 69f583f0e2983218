"""``dlcore check-backend``: run the conformance kit on one backend and print the report."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    """Add the ``check-backend`` subcommand to ``sub``."""
    q = sub.add_parser(
        "check-backend",
        help="check a backend against NumPy float64 references (dlcore.testing)",
        description=(
            "Run every public maths function and every kernel of backend NAME against NumPy "
            "float64 references (values, dtype kept, shapes, device kept, errors on mixed "
            "inputs) and print one line per case; exit 1 if any case fails."
        ),
    )
    q.add_argument("name", metavar="NAME", help="a backend name (see dlcore info)")
    q.add_argument("--device", metavar="D", help="the device to check on (default: the library's)")
    q.add_argument(
        "--failures-only", action="store_true", help="print only failed and skipped cases"
    )
    q.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``dlcore check-backend``: print the report; 0 if every case passed, else 1."""
    from dlcore.testing import check_backend

    report = check_backend(args.name, device=args.device, raise_on_failure=False)
    text = str(report)
    if args.failures_only:
        text = "\n".join(line for line in text.splitlines() if not line.startswith("  PASS"))
    print(text)
    return 0 if report.ok else 1
