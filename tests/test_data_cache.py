"""Cache directory, the inter-process lock, quarantine (atomic writes: tests/test_io.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from dlcore.data.cache import CacheLockTimeout, cache_dir, cache_lock, move_aside

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="uses SIGKILL and flock")


def test_env_var_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLCORE_DATA_DIR", str(tmp_path / "data"))
    assert cache_dir() == tmp_path / "data"
    monkeypatch.setenv("DLCORE_DATA_DIR", "~/mnist-here")
    assert cache_dir() == Path.home() / "mnist-here"


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="XDG rules are for Linux/BSD")
def test_xdg_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DLCORE_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "dlcore"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/dir")  # invalid per the XDG spec: ignored
    assert cache_dir() == Path.home() / ".cache" / "dlcore"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == Path.home() / ".cache" / "dlcore"


@pytest.mark.parametrize("xdg", [None, "/tmp/some-xdg-cache"])
def test_same_as_platformdirs(monkeypatch: pytest.MonkeyPatch, xdg: str | None) -> None:
    platformdirs = pytest.importorskip("platformdirs")
    monkeypatch.delenv("DLCORE_DATA_DIR", raising=False)
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    assert cache_dir() == Path(platformdirs.user_cache_dir("dlcore", appauthor=False))


def test_lock_excludes_a_second_holder(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    with cache_lock(lock):
        t0 = time.monotonic()
        with (
            pytest.raises(CacheLockTimeout, match=f"pid {os.getpid()}"),
            cache_lock(lock, timeout=0.2, poll=0.05),
        ):
            pass
        assert time.monotonic() - t0 >= 0.2
    with cache_lock(lock, timeout=0.2):  # released on exit
        pass
    assert lock.exists()


@posix_only
def test_lock_held_by_another_process_and_released_when_it_dies(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    code = textwrap.dedent(
        f"""
        import sys, time
        from dlcore.data.cache import cache_lock
        with cache_lock({str(lock)!r}):
            print("locked", flush=True)
            time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "locked"
        with (
            pytest.raises(CacheLockTimeout, match=f"pid {proc.pid}"),
            cache_lock(lock, timeout=0.3, poll=0.05),
        ):
            pass
        proc.kill()  # a crash: the holder never releases the lock itself
        proc.wait(timeout=10)
        with cache_lock(lock, timeout=5):  # no stale lock left behind
            pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def test_move_aside(tmp_path: Path) -> None:
    bad = tmp_path / "mnist.npz"
    bad.write_bytes(b"garbage 1")
    first = move_aside(bad)
    bad.write_bytes(b"garbage 2")
    second = move_aside(bad)
    assert not bad.exists()
    assert first != second
    for moved, content in ((first, b"garbage 1"), (second, b"garbage 2")):
        assert moved.parent == tmp_path
        assert moved.name.startswith("mnist.npz.corrupt-")
        assert moved.read_bytes() == content
