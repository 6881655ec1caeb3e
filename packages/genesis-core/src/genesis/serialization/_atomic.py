"""Atomic file replacement: temp file in the same folder, fsync, rename, fsync folder.

A writer holds an exclusive ``flock`` on its temp file for as long as it writes.
The lock dies with the process (even on SIGKILL), so every save can tell a
temp file left behind by a dead writer from one being written right now, and
removes the stale ones of its target before it starts.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
from collections.abc import Callable

try:
    import fcntl
except ImportError:  # Windows: an open file cannot be deleted, which is lock enough.
    fcntl = None

TEMP_SUFFIX = ".tmp"


def temp_name_pattern(name: str) -> re.Pattern[str]:
    """The names of temp files that a save of the file called ``name`` creates."""
    return re.compile(rf"\.{re.escape(name)}\.genesis-\d+-[0-9a-f]{{8}}{re.escape(TEMP_SUFFIX)}")


def atomic_write(path: str | os.PathLike[str], write: Callable[[int], None]) -> None:
    """Replace ``path`` atomically with what ``write(fd)`` writes to a fresh file.

    Either the old file or the complete new one is at ``path`` at every moment,
    also across a crash; the new file and the rename are on disk on return.
    """
    target = os.path.realpath(os.fspath(path))
    directory, name = os.path.split(target)
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"cannot save to {os.fspath(path)!r}: folder {directory!r} does not exist"
        )
    if os.path.isdir(target):
        raise IsADirectoryError(
            f"cannot save to {os.fspath(path)!r}: it is a folder, expected a file path"
        )
    remove_stale_temps(directory, name)
    temp = os.path.join(
        directory, f".{name}.genesis-{os.getpid()}-{secrets.token_hex(4)}{TEMP_SUFFIX}"
    )
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            write(fd)
            os.fsync(fd)
            os.replace(temp, target)
        finally:
            os.close(fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    _fsync_directory(directory)


def remove_stale_temps(directory: str, name: str) -> None:
    """Delete the temp files of target ``name`` in ``directory`` whose writer is gone."""
    pattern = temp_name_pattern(name)
    with os.scandir(directory) as entries:
        stale = [entry.path for entry in entries if pattern.fullmatch(entry.name)]
    for temp in stale:
        _remove_if_unlocked(temp)


def _remove_if_unlocked(temp: str) -> None:
    if fcntl is None:
        with contextlib.suppress(FileNotFoundError, PermissionError):
            os.unlink(temp)
        return
    try:
        fd = os.open(temp, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # a live writer is still at work on it
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
    finally:
        os.close(fd)


def _fsync_directory(directory: str) -> None:
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as error:
        # Some file systems cannot fsync a folder; the rename is still atomic there.
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)
