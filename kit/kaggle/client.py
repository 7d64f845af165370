"""The only importer of the official `kaggle` package: datasets, kernels, submissions, leaderboard.

Uses `KaggleApi` Python methods (never CLI text) and checks every answer, because the official CLI exits 0 on
server-reported errors. Failures become `KitError`s that say what to do. Every wait polls with backoff under an
overall timeout. The environment (config dir, sandbox endpoint, sandbox credentials) is set before the first
`import kaggle`, which authenticates at import time.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kit.config import KitConfig
from kit.errors import (
    DailyLimitError,
    InputError,
    KaggleAuthError,
    KaggleError,
    KaggleNotFoundError,
    KaggleRateLimitError,
    KernelFailedError,
    SubmissionError,
    WaitTimeoutError,
)
from kit.kaggle import metadata
from kit.kaggle import sandbox as sandbox_lib
from kit.kaggle.results import (  # noqa: F401 - re-exported for callers
    DatasetPush,
    KernelPush,
    LeaderboardEntry,
    Submission,
    SubmissionLimits,
    log_text,
    to_submission,
)

AUTH_HINT = "put kaggle.json in ~/.kaggle (or $KAGGLE_CONFIG_DIR) or set KAGGLE_API_TOKEN; or rehearse with --sandbox"


def kaggle_client(config: KitConfig, sandbox: bool | None = None) -> KaggleClient:
    """A client for kaggle.com, or (sandbox=True, or None with KIT_KAGGLE=sandbox) for the local emulator."""
    if sandbox_lib.sandbox_mode(sandbox):
        endpoint = sandbox_lib.ensure_emulator()
        return KaggleClient(config, sandbox=True, endpoint_url=endpoint.url)
    return KaggleClient(config)


def _has_credentials() -> bool:
    cfg_dir = os.environ.get("KAGGLE_CONFIG_DIR") or str(Path.home() / ".kaggle")
    home = Path.home() / ".kaggle"
    return bool(
        os.environ.get("KAGGLE_API_TOKEN")
        or (os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"))
        or any((Path(cfg_dir) / n).is_file() for n in ("kaggle.json", "credentials.json"))
        or any((home / n).is_file() for n in ("kaggle.json", "access_token", "access_token.txt", "credentials.json"))
        or (Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "kaggle" / "kaggle.json").is_file()
    )


def _server_message(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    try:
        return str(response.json().get("message") or exc)
    except Exception:
        return str(exc)


class KaggleClient:
    """Kaggle operations over the official client, with checked answers, retries and bounded waits."""

    def __init__(self, config: KitConfig, *, sandbox: bool = False, endpoint_url: str | None = None,
                 retries: int = 4, max_retry_wait: float = 60.0, progress: bool = True, ledger: Any = None) -> None:
        self.config = config
        self.sandbox = sandbox
        self.endpoint_url = endpoint_url
        self.retries = retries
        self.max_retry_wait = max_retry_wait
        self.progress = progress
        self._ledger = ledger
        self._env: dict[str, str | None] = {}
        if sandbox:
            if not endpoint_url:
                raise KaggleError("sandbox mode needs the emulator's address")
            self.username = config.kaggle.username or sandbox_username()
            cfg_dir = sandbox_lib.sandbox_dir() / "kaggle-config"
            cfg_dir.mkdir(parents=True, exist_ok=True)
            self._env = sandbox_lib.client_env(endpoint_url, self.username, cfg_dir)
        elif not _has_credentials():
            raise KaggleAuthError("no Kaggle credentials found", hint=AUTH_HINT)
        with self._scoped_env():
            self.api = self._connect()
        if not sandbox:
            self.username = config.kaggle.username or str(self.api.config_values.get("username") or "")

    # ------------------------------------------------------------------ connection

    def _connect(self) -> Any:
        from kaggle.api.kaggle_api_extended import KaggleApi  # env is set: this import authenticates

        api = KaggleApi()
        # Class attributes were fixed at the first import; pin this client's own config dir and host.
        api.config_dir = os.environ.get("KAGGLE_CONFIG_DIR") or api.config_dir
        api.config = os.path.join(api.config_dir, api.config_file)
        api.args = ["--local"] if self.sandbox else []
        try:
            with contextlib.redirect_stdout(sys.stderr):
                api.authenticate()
        except SystemExit:
            raise KaggleAuthError("Kaggle rejected the credentials or none were usable", hint=AUTH_HINT) from None
        except Exception as exc:
            raise KaggleError(f"cannot authenticate with Kaggle: {_server_message(exc)}") from None
        return api

    @contextlib.contextmanager
    def _scoped_env(self) -> Iterator[None]:
        """This client's environment (sandbox endpoint, proxy, token) only while the official client runs, so
        it never leaks into other work of the process (pip, kernels, a real-Kaggle client)."""
        saved = {key: os.environ.get(key) for key in self._env}
        sandbox_lib.apply_env(self._env)
        try:
            yield
        finally:
            sandbox_lib.apply_env(saved)

    @property
    def ledger(self) -> Any:
        if self._ledger is None:
            from kit.ledger import Ledger

            self._ledger = Ledger()
        return self._ledger

    def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one client call; retry 429 (honouring Retry-After), 5xx and connection errors; map failures."""
        import requests

        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                # The client prints; keep stdout for --json.
                with self._scoped_env(), contextlib.redirect_stdout(sys.stderr):
                    return fn(*args, **kwargs)
            except requests.HTTPError as exc:
                code = exc.response.status_code if exc.response is not None else 0
                message = _server_message(exc)
                if code == 429 and not last:
                    time.sleep(self._retry_after(exc.response, attempt))
                    continue
                if code >= 500 and not last:
                    time.sleep(self._backoff(attempt))
                    continue
                raise self._map_http(what, code, message) from None
            except requests.ConnectionError as exc:
                if not last:
                    time.sleep(self._backoff(attempt))
                    continue
                where = self.endpoint_url or "kaggle.com"
                raise KaggleError(f"{what}: cannot reach {where}: {type(exc).__name__}",
                                  hint="check the network (or `kit emulator serve` for the sandbox)") from None
            except ValueError as exc:  # client-side validation, or "Upload unsuccessful"
                text = str(exc)
                if "Cannot access kernel" in text:
                    raise KaggleNotFoundError(f"{what}: kernel not found or not yours") from None
                raise KaggleError(f"{what}: {text}") from None
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int) -> float:
        return min(0.5 * 2**attempt, self.max_retry_wait)

    def _retry_after(self, response: Any, attempt: int) -> float:
        try:
            return min(max(float(response.headers.get("Retry-After")), 0.0), self.max_retry_wait)
        except (TypeError, ValueError):
            return self._backoff(attempt)

    def _map_http(self, what: str, code: int, message: str) -> KaggleError:
        if code in (401, 403):
            return KaggleAuthError(f"{what}: Kaggle refused the request ({code}: {message})", hint=AUTH_HINT)
        if code == 404:
            return KaggleNotFoundError(f"{what}: not found ({message})",
                                       hint="check the owner/slug in kit.toml and that it was pushed")
        if code == 429:
            return KaggleRateLimitError(f"{what}: rate limited by Kaggle after {self.retries} retries",
                                        hint="wait a few minutes and run it again")
        if "daily submission allowance" in message.lower() or "submission limit" in message.lower():
            return DailyLimitError(f"{what}: {message}", hint="no submissions left today; try again after 00:00 UTC")
        return KaggleError(f"{what}: Kaggle answered {code}: {message}")

    def _wait(self, what: str, probe: Callable[[], tuple[str, bool]], timeout: float, poll: float) -> str:
        """Poll `probe` (status, done) with backoff (x1.5, capped at 4x `poll`) until done or `timeout`."""
        from tqdm import tqdm

        deadline = time.monotonic() + timeout
        delay = poll
        with tqdm(desc=what, total=None, bar_format="{desc}: {postfix} [{elapsed}]", disable=not self.progress,
                  file=sys.stderr) as bar:
            while True:
                status, done = probe()
                bar.set_postfix_str(status.lower())
                if done:
                    return status
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WaitTimeoutError(f"{what}: still {status} after {timeout:.0f} s",
                                           hint="it may still finish; re-run later or raise the timeout")
                time.sleep(min(delay, remaining))
                delay = min(delay * 1.5, poll * 4)

    # ------------------------------------------------------------------ datasets

    def _dataset_exists(self, ref: str) -> bool:
        try:
            self._call(f"dataset {ref}", self.api.dataset_status, ref)
        except KaggleNotFoundError:
            return False
        return True

    def dataset_status(self, ref: str) -> str:
        """The processing status of the dataset's latest version, lower-case ('ready', 'failed', ...)."""
        return str(self._call(f"dataset status {ref}", self.api.dataset_status, ref)).lower()

    def dataset_version(self, ref: str) -> tuple[str, int | None]:
        """(status, current version number) of a dataset."""
        raw = self._call(f"dataset {ref}", self.api.dataset_status, ref, format="json(status,current_version_number)")
        data = json.loads(raw)
        return str(data.get("status", "")).lower(), data.get("current_version_number")

    def dataset_push(self, folder: Path, slug: str, *, kind: str, public: bool = False, notes: str = "",
                     wait: bool = True, timeout: float | None = None, license: str | None = None,
                     title: str | None = None, poll: float | None = None,
                     files: list[Path] | None = None) -> DatasetPush:
        """Create the dataset or a new version from `folder` (a clean copy), wait for READY, record it.

        `timeout` and `license` default to kit.toml's [kaggle] dataset_timeout_seconds and dataset_license.
        An unchanged folder (same content hash as the last pushed version) is not uploaded: a 'skipped' row
        is recorded and the previous version returned. `files` (relative paths, chosen and scanned by the
        caller through kit.uploads) replaces the default clean-file walk.
        """
        started = time.monotonic()
        timeout = float(timeout if timeout is not None else self.config.kaggle.dataset_timeout_seconds)
        license = metadata.check_license(license or self.config.kaggle.dataset_license)
        folder = Path(folder)
        ref = f"{self.username}/{metadata.check_slug(slug)}"
        meta = metadata.dataset_metadata(self.username, slug, title=title, license=license)
        files = list(files) if files is not None else metadata.clean_files(folder)
        if not files:
            raise InputError(f"{folder} has no files to push")
        digest = metadata.content_hash(folder, files)
        size = sum((folder / f).stat().st_size for f in files)
        names = tuple(str(f) for f in files)
        last = self.ledger.latest_dataset_version(ref, sandbox=self.sandbox)
        if last and last["content_hash"] == digest:
            self.ledger.add_dataset_version(kind, ref, last["version"], digest, status="skipped", files=list(names),
                                            size_bytes=size, sandbox=self.sandbox, notes="unchanged content")
            return DatasetPush(ref, last["version"], digest, skipped=True, status="skipped", files=names,
                               size_bytes=size, seconds=time.monotonic() - started)
        staging = Path(tempfile.mkdtemp(prefix="kit-push-"))
        try:
            metadata.stage(folder, staging, meta, files)
            self._upload(ref, staging, public=public, notes=notes)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        status, version = self.dataset_version(ref)
        if wait:
            status = self.wait_dataset(ref, timeout=timeout, poll=poll or (0.2 if self.sandbox else 2.0))
        recorded = "ready" if status == "ready" else "pending"
        self.ledger.add_dataset_version(kind, ref, version, digest, status=recorded, files=list(names),
                                        size_bytes=size, sandbox=self.sandbox, notes=notes)
        return DatasetPush(ref, version, digest, status=status, files=names, size_bytes=size,
                           seconds=time.monotonic() - started)

    def _upload(self, ref: str, staging: Path, *, public: bool, notes: str) -> None:
        exists = self._dataset_exists(ref)
        quiet = not self.progress
        try:
            if exists:
                resp = self._call(f"dataset version {ref}", self.api.dataset_create_version, str(staging),
                                  notes or "pushed by kit", quiet=quiet, dir_mode="zip")
            else:
                resp = self._call(f"dataset create {ref}", self.api.dataset_create_new, str(staging),
                                  public=public, quiet=quiet, dir_mode="zip")
        except KaggleError:
            _forget_upload_state(staging)  # a stale resume entry would break the next upload of this path
            raise
        if (resp.status or "").lower() != "ok" or resp.error:
            raise KaggleError(f"dataset {'version' if exists else 'create'} {ref} failed: {resp.error or resp.status}",
                              hint="check the dataset quota and metadata on kaggle.com")

    def wait_dataset(self, ref: str, *, timeout: float = 600.0, poll: float = 2.0) -> str:
        """Wait until the latest version is READY; FAILED raises KaggleError."""
        def probe() -> tuple[str, bool]:
            status = self.dataset_status(ref)
            if status == "failed":
                raise KaggleError(f"dataset {ref}: Kaggle failed to process the new version",
                                  hint="check the dataset quota and file limits on kaggle.com, then push again")
            return status, status == "ready"

        return self._wait(f"dataset {ref}", probe, timeout, poll)

    # ------------------------------------------------------------------ kernels

    def kernel_push(self, folder: Path, *, timeout: int | None = None) -> KernelPush:
        """Push the kernel in `folder` (kernel-metadata.json + code file); returns its new version."""
        meta_path = Path(folder) / "kernel-metadata.json"
        if not meta_path.is_file():
            raise InputError(f"{meta_path} not found", hint="run `kit build-submission` first")
        ref = json.loads(meta_path.read_text()).get("id", "")
        session = timeout or self.config.kaggle.kernel_timeout_seconds
        resp = self._call(f"kernel push {ref}", self.api.kernels_push, str(folder), timeout=session)
        kinds = ("dataset", "competition", "kernel", "model")
        invalid = {k: getattr(resp, f"invalid_{k}_sources") or [] for k in kinds}
        bad = "; ".join(f"{k} sources {', '.join(v)}" for k, v in invalid.items() if v)
        if resp.error or bad:
            raise KaggleError(f"kernel push {ref} refused: {resp.error or ''}{' invalid ' + bad if bad else ''}",
                              hint="push the datasets first and check the slugs in kernel-metadata.json")
        return KernelPush(ref, int(resp.version_number), resp.url or "")

    def kernel_status(self, ref: str, version: int) -> tuple[str, str]:
        """(QUEUED|RUNNING|COMPLETE|ERROR|..., failure message) of one kernel version."""
        resp = self._call(f"kernel status {ref}/{version}", self.api.kernels_status, f"{ref}/{version}")
        return resp.status.name, resp.failure_message or ""

    def wait_kernel(self, ref: str, version: int, *, timeout: float, poll: float = 30.0) -> str:
        """Wait for a kernel version to finish; ERROR/cancel raises KernelFailedError with Kaggle's message."""
        def probe() -> tuple[str, bool]:
            status, message = self.kernel_status(ref, version)
            if status in ("ERROR", "CANCEL_ACKNOWLEDGED", "CANCEL_REQUESTED"):
                raise KernelFailedError(f"kernel {ref} v{version} ended {status}: {message or 'no message'}",
                                        hint=f"see the log: kaggle kernels output {ref}/{version}")
            return status, status == "COMPLETE"

        return self._wait(f"kernel {ref} v{version}", probe, timeout, poll)

    def kernel_output(self, ref: str, version: int, dest: Path) -> list[Path]:
        """Download a finished version's output files (and its log) into `dest`."""
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        paths, _ = self._call(f"kernel output {ref}/{version}", self.api.kernels_output, f"{ref}/{version}",
                              str(dest), force=True, quiet=True)
        return [Path(p) for p in paths]

    def kernel_log(self, ref: str, version: int) -> str:
        """The version's log as plain text (Kaggle's JSON stream entries joined)."""
        raw = self._call(f"kernel log {ref}/{version}", self.api.kernels_logs, f"{ref}/{version}")
        return log_text(raw)

    # ------------------------------------------------------------------ competitions

    def submission_limits(self, competition: str) -> SubmissionLimits:
        """How many submissions are left today."""
        resp = self._call(f"submission limits {competition}", self.api.competition_get_submission_limits,
                          competition)
        return SubmissionLimits(int(resp.num_allowed_now or 0), int(resp.num_today or 0))

    def submit_code(self, competition: str, kernel_ref: str, version: int, file_name: str, message: str) -> int:
        """Create a code submission for one kernel version; returns the submission ref."""
        resp = self._call(f"submit {kernel_ref} v{version} to {competition}", self.api.competition_submit_code,
                          file_name, message, competition=competition, kernel=kernel_ref, kernel_version=version,
                          quiet=True)
        if not resp.ref:
            raise SubmissionError(f"Kaggle did not accept the submission: {resp.message or 'no reason given'}")
        return int(resp.ref)

    def get_submission(self, ref: int) -> Submission:
        """One submission's status and scores."""
        return to_submission(self._call(f"submission {ref}", self.api.get_submission, int(ref)))

    def wait_submission(self, ref: int, *, timeout: float, poll: float = 30.0) -> Submission:
        """Wait until a submission is scored; ERROR raises SubmissionError with Kaggle's description."""
        box: dict[str, Submission] = {}

        def probe() -> tuple[str, bool]:
            box["sub"] = sub = self.get_submission(ref)
            if sub.status == "ERROR":
                raise SubmissionError(f"submission {ref} failed: {sub.error or 'no description'}")
            return sub.status, sub.status == "COMPLETE"

        self._wait(f"submission {ref}", probe, timeout, poll)
        return box["sub"]

    def submissions(self, competition: str) -> list[Submission]:
        """This account's submissions to `competition`, newest first."""
        rows = self._call(f"submissions {competition}", self.api.competition_submissions, competition)
        return [to_submission(s) for s in rows or []]

    def leaderboard(self, competition: str) -> list[LeaderboardEntry]:
        """The public leaderboard's first page, best first."""
        rows = self._call(f"leaderboard {competition}", self.api.competition_leaderboard_view, competition)
        return [LeaderboardEntry(r.team_name, float(r.score), i) for i, r in enumerate(rows or [], 1)]


def sandbox_username() -> str:
    return sandbox_lib.DEFAULT_USER


def _forget_upload_state(staging: Path) -> None:
    """Remove the official client's resume entries for files under `staging` (kaggle_api.md §8)."""
    state_dir = Path(tempfile.gettempdir()) / (f".kaggle-uploads-{os.geteuid()}" if hasattr(os, "geteuid")
                                              else ".kaggle-uploads")
    prefix = str(staging).replace(os.sep, "_").replace(":", "_")
    for entry in state_dir.glob(prefix + "*.json") if state_dir.is_dir() else ():
        entry.unlink(missing_ok=True)
