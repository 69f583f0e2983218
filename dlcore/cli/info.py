"""``dlcore info``: the backends here and whether each can run."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("info", help="list the backends and whether each can run here")
    p.set_defaults(func=_info)


def _info(args: argparse.Namespace) -> int:
    import dlcore

    active: str
    try:
        active = dlcore.get_backend().name
    except Exception as exc:  # show the table even when the requested backend is broken
        active = f"(none: {exc})"
    print(f"dlcore {dlcore.__version__}, active backend: {active}")
    print(f"{'backend':<18} {'available':<10} note")
    for name, (ok, why) in dlcore.available_backends().items():
        note = dlcore.get_backend(name).description if ok else why
        print(f"{name:<18} {'yes' if ok else 'no':<10} {note}")
    return 0
