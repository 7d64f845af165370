"""The tool sandbox's settings: limits of one snippet run and the paths it must never see."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kit.errors import ConfigError

# What a Kaggle kernel must keep from model-written code: the attached inputs (model weights, wheels, data) and the
# output folder that becomes the submission.
KAGGLE_PROTECT = ("/kaggle/input", "/kaggle/working")
ISOLATE_MODES = ("auto", "require", "off")
MIB = 1024 * 1024


@dataclass(frozen=True)
class SandboxConfig:
    """Limits of one snippet run.

    wall_s: wall-clock seconds for the whole run, interpreter start included.
    cpu_s: CPU seconds of each process (RLIMIT_CPU; SIGXCPU at the limit, SIGKILL a second later).
    memory_mb: address space of each process (RLIMIT_AS).
    max_procs: processes (and threads, where the kernel counts them) the snippet may run at once, itself included.
    file_mb: the largest file it may write (RLIMIT_FSIZE).
    scratch_mb: the size of an isolated run's scratch folder (a tmpfs, counted as memory, not against memory_mb).
    output_keep: bytes of stdout, and of stderr, kept for the model (a head and a tail); the rest is counted.
    output_limit: bytes of stdout plus stderr after which the run is killed (0: never).
    protect: paths the snippet may neither read nor write (absent ones are skipped).
    scratch_root: where each run's folder (its spec, and its scratch folder when not isolated) is made ("" for the
        system temp folder).
    python: the interpreter that runs snippets ("" for this one).
    isolate: "auto" uses namespaces where the OS grants them and says so when it does not; "require" refuses to
        run without them; "off" never tries.
    """

    wall_s: float = 10.0
    cpu_s: int = 10
    memory_mb: int = 4096
    max_procs: int = 64
    file_mb: int = 64
    scratch_mb: int = 256
    output_keep: int = 64 * 1024
    output_limit: int = 4 * MIB
    protect: tuple[str, ...] = KAGGLE_PROTECT
    scratch_root: str = ""
    python: str = ""
    isolate: str = "auto"

    def __post_init__(self) -> None:
        for name in ("wall_s", "cpu_s", "memory_mb", "max_procs", "file_mb", "scratch_mb", "output_keep"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"sandbox {name} must be positive, got {getattr(self, name)}")
        if self.output_limit < 0:
            raise ConfigError(f"sandbox output_limit must be 0 (none) or positive, got {self.output_limit}")
        if self.isolate not in ISOLATE_MODES:
            raise ConfigError(f"sandbox isolate must be one of {', '.join(ISOLATE_MODES)}, got {self.isolate!r}")

    @property
    def interpreter(self) -> str:
        """The snippet interpreter's path."""
        return self.python or sys.executable

    def scratch(self) -> Path:
        """The folder scratch folders are made in; ConfigError when it lies where snippets must not look."""
        root = Path(os.path.realpath(self.scratch_root or tempfile.gettempdir()))
        blocked = [*self.protected(), *home_folders()]
        for path in blocked:
            if root == path or path in root.parents:
                raise ConfigError(f"sandbox scratch_root {root} lies inside {path}, which snippets must not see",
                                  hint="choose a scratch_root outside HOME and the protected paths")
        return root

    def protected(self) -> list[Path]:
        """The protected paths that exist here, resolved (a mount covers the real folder, not a link to it)."""
        return sorted({Path(os.path.realpath(p)) for p in self.protect if os.path.lexists(p)})


def home_folders() -> list[Path]:
    """The host user's home folders, hidden from isolated snippets (credentials live there): $HOME and the
    account's home from the password database, which holds them whatever $HOME says. Never /."""
    candidates = [os.path.expanduser("~")]
    with contextlib.suppress(KeyError, ImportError):
        import pwd

        candidates.append(pwd.getpwuid(os.geteuid()).pw_dir)
    homes = {Path(os.path.realpath(p)) for p in candidates if p}
    return sorted(h for h in homes if len(h.parts) > 1 and h.is_dir())
