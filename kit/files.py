"""The kit's one atomic writer: a file (or a built folder) is replaced whole or not at all.

Every file another process may read while it is rewritten (a kernel's submission.csv and timing report, the
sandbox's state, kit.toml, artefact sidecars) is written to a temp file in the same folder and renamed over the
target, so a reader, or a process killed at any moment, only ever sees the previous or the new complete file.
Built folders (converted models, wheel bundles) are built beside their final name and renamed into place.
Kept by hand (about 30 lines) because the library that did this (`atomicwrites`) is archived and unmaintained.
There is no fsync: the guarantee is against killed processes (what a kernel's time limit does), not power loss,
and the kernel's guard rewrites its submission many times a run.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", *, encoding: str | None = "utf-8",
                newline: str | None = None) -> Iterator[IO[Any]]:
    """Open a temp file beside `path` for writing ("w" or "wb"); on a clean exit it replaces `path`, on an
    exception it is removed and `path` is untouched. Parent folders are created."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes whole files: mode 'w' or 'wb', not {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        text = {} if "b" in mode else {"encoding": encoding, "newline": newline}
        with os.fdopen(fd, mode, **text) as fh:
            yield fh
        os.chmod(tmp, _mode(path))  # mkstemp makes 0600: keep the target's mode, else what the umask allows
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_umask() -> int:
    mask = os.umask(0)  # the only way to read it sets it: done once, at import, before any thread starts
    os.umask(mask)
    return mask


_NEW_FILE_MODE = 0o666 & ~_read_umask()


def _mode(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        return _NEW_FILE_MODE


def atomic_write(path: str | os.PathLike, data: str | bytes, *, encoding: str = "utf-8") -> Path:
    """Replace `path` with `data` (text or bytes) atomically; returns the path."""
    with atomic_open(path, "wb" if isinstance(data, bytes) else "w", encoding=encoding, newline="") as fh:
        fh.write(data)
    return Path(path)


def write_json(path: str | os.PathLike, data: Any, *, indent: int | None = 2) -> Path:
    """Write sorted JSON atomically (indented by default: the form every artefact's config takes)."""
    return atomic_write(path, json.dumps(data, indent=indent, sort_keys=True, default=str) + "\n")


@contextmanager
def atomic_dir(target: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temp folder beside `target` to build in; on a clean exit it is renamed to `target`.

    When `target` appeared meanwhile (another process built the same thing), theirs is kept. The temp folder is
    always removed, and temp folders that killed builds of `target` left behind are removed first."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_dead_builds(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-{os.getpid()}-", dir=target.parent))
    try:
        yield tmp
        try:
            tmp.rename(target)
        except OSError:  # a non-empty `target` exists: another process finished first
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def remove_dead_builds(target: str | os.PathLike) -> None:
    """Delete `atomic_dir` build folders of `target` whose process is gone (killed builds)."""
    target = Path(target)
    for stale in target.parent.glob(f".{target.name}-*-*"):
        pid = stale.name[len(target.name) + 2:].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


REPLACED = ".replaced-"  # `.<name>.replaced-<pid>`: a folder `replace_dir` moved aside for one moment


@contextmanager
def replace_dir(target: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temp folder beside `target` to build in; on a clean exit it replaces `target` (an existing
    folder is deleted), on an exception (or a kill) `target` is left exactly as it was.

    Unlike `atomic_dir` (a cache: whoever finishes first wins), the new folder always wins. os.rename cannot swap
    two folders in one step, so the old one is renamed aside to `.<name>.replaced-<pid>`, the new one renamed into
    place, then the old one deleted; a process killed between the two renames leaves the old folder aside, and
    the next `replace_dir` of the same target (or `restore_replaced`) puts it back first."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(f"{target} is a file, not a folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    restore_replaced(target)
    remove_dead_builds(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-{os.getpid()}-", dir=target.parent))
    try:
        yield tmp
        aside = target.with_name(f".{target.name}{REPLACED}{os.getpid()}")
        if target.exists():
            os.rename(target, aside)
        os.rename(tmp, target)
        shutil.rmtree(aside, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def restore_replaced(target: str | os.PathLike) -> None:
    """Undo a `replace_dir` killed between its two renames: a folder it moved aside for a process that is gone
    goes back to `target` when `target` is missing, and is deleted when the new folder made it into place."""
    target = Path(target)
    for aside in target.parent.glob(f".{target.name}{REPLACED}*"):
        pid = aside.name[len(target.name) + 1 + len(REPLACED):]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        if target.exists():
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.rename(aside, target)
