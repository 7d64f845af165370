"""The boundary to git: where a build, a submission or an adapter came from (HEAD and whether the tree was dirty).

The only module that runs git; callers record what it says.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def git_state(cwd: Path | None = None, exclude: Path | None = None) -> tuple[str | None, bool | None]:
    """(HEAD sha, dirty) of the git work tree around `cwd`; (None, None) outside a repo or without git.

    `exclude` (the kernel folder the kit writes) does not count as a change."""
    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=30)

    try:
        head = git("rev-parse", "HEAD")
    except (OSError, subprocess.TimeoutExpired):
        return None, None
    if head.returncode != 0:
        return None, None
    spec = ["--", "."]
    if exclude is not None:
        try:
            rel = Path(os.path.relpath(exclude.resolve(), (cwd or Path.cwd()).resolve()))
            if not str(rel).startswith(".."):
                spec.append(f":(exclude){rel.as_posix()}")
        except ValueError:
            pass
    status = git("status", "--porcelain", *spec)
    return head.stdout.strip(), bool(status.stdout.strip())
