"""The emulator's on-disk state: one JSON document plus blob, dataset and kernel folders under `--state`.

Everything a client can observe survives a restart: blobs, dataset versions, kernel versions and their runs,
submissions. Runs that were in flight when the server stopped are marked ERROR on load (like a lost VM).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit.files import write_json
from kit.kernel.guard import DEFAULT_BUDGET_SECONDS

DEFAULTS: dict[str, Any] = {
    "username": "sandbox-user",      # the account the sandbox credentials belong to
    "key": "sandbox-key",            # Basic auth password (KAGGLE_KEY)
    "token": "sandbox-token",        # Bearer token (KAGGLE_API_TOKEN); IntrospectToken accepts it
    "ready_delay": 0.5,              # seconds a dataset version spends processing before READY
    "daily_limit": 5,                # submissions per competition per UTC day
    "pack": "",                      # "": every installed competition pack, by slug; a slug or 'module:attr': only it
    "max_session_seconds": DEFAULT_BUDGET_SECONDS,  # cap on a kernel run (Kaggle's 9 h)
    "seed_teams": True,              # put a few fake teams on the leaderboard
    # The account's standing in the competition (see testing.set_state):
    #   joined | not_joined (no team: limits all zero, submit 403) | rules_not_accepted (403 on submit/download)
    "participation": "joined",
    "submissions_open": True,        # False: the competition ended and late submissions are closed
    "page_size": 20,                 # Kaggle's default page for listings that are not given one
    "gpu_hours_used": 0.0,           # what GetAcceleratorQuotaStatistics reports
    "input_layout": "2025",          # where kernels find their sources: "2025" (2025-26 layout) or "2024"
    # How long an evaluation gateway waits for a served kernel to answer its first call (Kaggle: 900 s); 0 keeps
    # the gateway's own default. Tests scale it down; Kaggle's real gateways ignore it.
    "gateway_startup_limit": 0,
    # Rows of each hidden part (public, private) a scoring re-run serves, for competitions whose view takes `rows`
    # (AIMO); 0 serves them all, as Kaggle does. A rehearsal knob: a CPU answers 100 olympiad problems slowly.
    "hidden_rows": 0,
}
PARTICIPATION = ("joined", "not_joined", "rules_not_accepted")

RUNNING_STATES = ("QUEUED", "RUNNING")


def model_folder(root: Path, ref: str) -> Path:
    """Where the emulator rooted at `root` keeps model source `ref` ('owner/model/framework/variation/version';
    the framework folder in lower case, as Kaggle mounts it)."""
    parts = ref.strip("/").split("/")
    if len(parts) == 5:
        parts[2] = parts[2].lower()
    return Path(root, "models", *parts)


def scoring_run_dir(root: Path, submission_ref: int) -> Path:
    """Where the emulator rooted at `root` re-runs a code submission's kernel on the hidden set to score it."""
    return Path(root, "submissions", str(int(submission_ref)), "run")


def link_model(root: Path, ref: str, folder: Path) -> Path:
    """Publish a local folder as model source `ref` of the emulator rooted at `root` (a symlink; one that
    points elsewhere is replaced)."""
    link = model_folder(root, ref)
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        if link.resolve() == Path(folder).resolve():
            return link
        link.unlink()
    link.symlink_to(Path(folder).resolve(), target_is_directory=True)
    return link


def require_owner(user: str, owner: str) -> None:
    """Kaggle's 403 when `user` writes to another account's datasets, kernels or models."""
    if owner != user:
        raise ApiError(403, f"Permission denied: {user} cannot write to {owner}'s resources")


class ApiError(Exception):
    """An error answer: HTTP status plus Kaggle's {"code", "message"} body."""

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


@dataclass
class State:
    """Thread-safe access to the emulator's persistent state."""

    root: Path
    config: dict[str, Any] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        for sub in ("blobs", "datasets", "kernels", "submissions", "models"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        cfg_path = self.root / "emulator.json"
        saved = json.loads(cfg_path.read_text()) if cfg_path.exists() else {}
        self.config = {**DEFAULTS, **saved, **self.config}
        write_json(cfg_path, self.config, indent=1)
        self.data = self._load()

    # ------------------------------------------------------------------ persistence

    @property
    def path(self) -> Path:
        return self.root / "state.json"

    def _load(self) -> dict[str, Any]:
        data = json.loads(self.path.read_text()) if self.path.exists() else {}
        data.setdefault("blobs", {})
        data.setdefault("datasets", {})
        data.setdefault("kernels", {})
        data.setdefault("submissions", [])
        data.setdefault("models", {})
        data.setdefault("next_ref", 30000001)
        for kernel in data["kernels"].values():  # runs lost with the previous process
            for ver in kernel["versions"]:
                if ver["status"] in RUNNING_STATES:
                    ver.update(status="ERROR", failureMessage="emulator restarted while the kernel was running")
        for sub in data["submissions"]:
            if sub["status"] == "PENDING":
                sub.update(status="ERROR", errorDescription="emulator restarted while scoring")
        return data

    def save(self) -> None:
        """Write the document atomically (callers hold the lock)."""
        with self.lock:
            write_json(self.path, self.data, indent=1)

    def update(self, record: dict[str, Any], **fields: Any) -> None:
        """Change a record of the document (a kernel version, a submission) and save, under the lock."""
        with self.lock:
            record.update(fields)
            self.save()

    def next_ref(self) -> int:
        with self.lock:
            ref = int(self.data["next_ref"])
            self.data["next_ref"] = ref + 1
            return ref

    # ------------------------------------------------------------------ folders

    def blob_path(self, token: str) -> Path:
        return self.root / "blobs" / token

    def dataset_dir(self, ref: str, version: int) -> Path:
        return self.root / "datasets" / ref / str(version)

    def kernel_dir(self, ref: str, version: int) -> Path:
        return self.root / "kernels" / ref / str(version)

    def model_dir(self, ref: str) -> Path:
        """Folder of a model source 'owner/model/framework/variation/version' (framework in lower case)."""
        return model_folder(self.root, ref)

    def model_instance_dir(self, owner: str, model: str, framework: str, variation: str, version: int | str) -> Path:
        """Where a Kaggle Model version's files live; a kernel mounts this folder at
        /kaggle/input/models/<owner>/<model>/<framework>/<variation>/<version> (framework lower-cased, as
        Kaggle mounts it)."""
        return model_folder(self.root, f"{owner}/{model}/{framework}/{variation}/{version}")

    # ------------------------------------------------------------------ datasets

    def dataset(self, ref: str) -> dict[str, Any] | None:
        return self.data["datasets"].get(ref)

    def dataset_status(self, version: dict[str, Any]) -> str:
        """Processing walks BLOBS_RECEIVED -> BLOBS_DECOMPRESSED -> READY over `ready_delay` seconds."""
        if version.get("failed"):
            return "FAILED"
        age = time.time() - version["created"]
        delay = float(self.config["ready_delay"])
        if age >= delay:
            return "READY"
        return "BLOBS_RECEIVED" if age < delay / 2 else "BLOBS_DECOMPRESSED"

    def current_version(self, ref: str) -> dict[str, Any] | None:
        """The version Kaggle reports as current: the newest one processed (a new version becomes current only
        when READY), else the newest one."""
        ds = self.dataset(ref)
        if not ds or not ds["versions"]:
            return None
        return self.ready_version(ref) or ds["versions"][-1]

    def ready_version(self, ref: str, number: int | None = None) -> dict[str, Any] | None:
        """The newest READY version of a dataset (or exactly `number` when it is READY)."""
        ds = self.dataset(ref)
        if ds is None:
            return None
        for ver in reversed(ds["versions"]):
            if (number is None or ver["number"] == number) and self.dataset_status(ver) == "READY":
                return ver
        return None

    # ------------------------------------------------------------------ kernels

    def kernel_version(self, ref: str, number: int | None) -> dict[str, Any] | None:
        kernel = self.data["kernels"].get(ref)
        if not kernel or not kernel["versions"]:
            return None
        if number is None:
            return kernel["versions"][-1]
        return next((v for v in kernel["versions"] if v["number"] == number), None)

    # ------------------------------------------------------------------ submissions

    def submission(self, ref: int) -> dict[str, Any] | None:
        return next((s for s in self.data["submissions"] if s["ref"] == ref), None)

    def submissions_today(self, competition: str, user: str) -> int:
        day = time.strftime("%Y-%m-%d", time.gmtime())
        return sum(
            1 for s in self.data["submissions"]
            if s["competition"] == competition and s["user"] == user and s["date"].startswith(day)
            and s.get("counts", True)  # a failure Kaggle blames on itself gives the submission back
        )


def iso(ts: float | None = None) -> str:
    """Kaggle's datetime form: 2024-04-01T00:00:00.000Z."""
    ts = time.time() if ts is None else ts
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1000):03d}Z"
