"""Atomic file writes: a crash or Ctrl-C leaves the old file or the new one, never half."""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from megalis_net.errors import MegalisError


class WriteError(MegalisError):
    """A file that cannot be written (permissions, missing folder, full disk)."""


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise WriteError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise WriteError(f"cannot write {path}: {exc.strerror or exc}") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    atomic_write_bytes(path, text.encode(encoding))


LOCK_FILE = ".megalis.lock"


class Busy(MegalisError):
    """Another megalis-net is changing the same files."""


@contextmanager
def exclusive(directory: Path) -> Iterator[None]:
    """Hold ``directory``'s lock: one writer at a time reads, changes and writes it.

    Non-blocking: a second engineer running ``site add`` on the same
    inventory is told at once, rather than waiting or losing an update.
    """
    path = directory / LOCK_FILE
    try:
        handle = path.open("a+")
    except OSError as exc:
        raise WriteError(f"cannot lock {directory}: {exc.strerror or exc}") from exc
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise Busy(f"{directory} is being changed by {holder}; try again") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"megalis-net pid {os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


def atomic_write_dir(out: Path, files: Mapping[str, bytes]) -> None:
    """Write ``files`` (relative name -> bytes) as the folder ``out``, all or nothing.

    Everything goes into a temporary folder next to ``out`` first, which then
    takes ``out``'s place: a failure before that leaves ``out`` as it was. A
    folder that holds anything but such files is refused, not replaced, so
    that ``--out .`` cannot wipe a working tree.
    """
    if out.exists():
        _check_replaceable(out, files)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as exc:
        raise WriteError(f"cannot write {out}: {exc.strerror or exc}") from exc
    try:
        for name, data in files.items():
            atomic_write_bytes(tmp / name, data)
            (tmp / name).chmod(0o644)  # published, not private (mkstemp makes 0600)
        tmp.chmod(0o755)  # mkdtemp's 0700 would hide it from a web server
        _swap(tmp, out)
    except OSError as exc:
        raise WriteError(f"cannot write {out}: {exc.strerror or exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _check_replaceable(out: Path, files: Mapping[str, bytes]) -> None:
    if not out.is_dir():
        raise WriteError(f"cannot write {out}: it exists and is not a folder")
    ours = {Path(name).parts[0] for name in files}
    foreign = sorted(p.name for p in out.iterdir() if p.name not in ours)
    if foreign:
        raise WriteError(
            f"refusing to replace {out}: it holds other files ({', '.join(foreign[:3])})"
        )


def _swap(tmp: Path, out: Path) -> None:
    """Put ``tmp`` in ``out``'s place; the old folder is moved aside, then removed."""
    if not out.exists():
        os.rename(tmp, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
    os.rename(out, old / out.name)
    try:
        os.rename(tmp, out)
    except OSError:
        os.rename(old / out.name, out)
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)
