"""Files castui writes for the user: whole or not at all, and never over something else by accident.

`write_atomic` writes a temporary file beside the target and renames it into place (a reader sees
the old file or the new one, never half of one); `locked` serialises read-modify-write cycles on
shared state (twenty-four `castui suppress` at once keep twenty-four records); `write_new` links a
finished temporary file into place only if nothing is there yet.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def write_atomic(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def place_new(temporary: Path, path: Path) -> None:
    """Move a finished file to `path` only when nothing is there: FileExistsError otherwise (atomic)."""
    os.link(temporary, path)
    os.unlink(temporary)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `path`'s companion `.lock` file, held for the block (other processes wait)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
