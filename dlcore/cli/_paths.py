"""Output paths the subcommands check before any work (``--save``, ``--plot``, ``--json``).

The folder must exist and be writable and the path must name a regular file
(:func:`dlcore.io.check_output_path`); a chart must be named ``.png``, the
format it is written in, so that ``--plot curves`` or ``--plot c.txt`` is
refused up front instead of writing ``curves.png`` or PNG bytes into a text
file after a long run.
"""

from __future__ import annotations

from dlcore.cli import CLIError

__all__ = ["check_output", "check_plot"]


def check_output(path: str | None, option: str) -> str | None:
    """``path`` if a file can be written there (``None`` passes); raise otherwise.

    Raises
    ------
    ValueError, FileNotFoundError, PermissionError
        As :func:`dlcore.io.check_output_path`, naming ``option``; the CLI
        prints them as one line.
    """
    if path is None:
        return None
    from dlcore.io import check_output_path

    return check_output_path(path, option)


def check_plot(path: str | None, option: str = "--plot") -> str | None:
    """:func:`check_output` for a PNG chart: the name must end in ``.png``."""
    checked = check_output(path, option)
    if checked is not None and not checked.lower().endswith(".png"):
        msg = f"{option} {checked!r}: the chart is a PNG file; give a name ending in .png"
        raise CLIError(msg)
    return checked
