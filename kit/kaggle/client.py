"""The only importer of the official `kaggle` package: datasets, kernels, submissions, leaderboard.

Uses `KaggleApi` Python methods (never CLI text) and checks every answer, because the official CLI exits 0 on
server-reported errors. Failures become `KitError`s that say what to do (kit/kaggle/calls.py). Read calls retry
with backoff; creating calls look up what the server did before trying again. Every wait polls with backoff
under an overall timeout. It only talks to Kaggle: callers record results (kit/chain/pushes.py,
kit/chain/submit.py). The environment (config dir, sandbox endpoint, sandbox credentials) is set before the first
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
from typing import Any, Protocol, runtime_checkable

from kit.config import KitConfig
from kit.errors import (
    InputError,
    KaggleAuthError,
    KaggleError,
    KaggleNotFoundError,
    KernelFailedError,
    WaitTimeoutError,
)
from kit.kaggle import calls, kernel_metadata, metadata
from kit.kaggle import sandbox as sandbox_lib
from kit.kaggle.calls import AUTH_HINT
from kit.kaggle.results import (
    DatasetPush,
    KernelPush,
    LeaderboardEntry,
    Submission,
    SubmissionLimits,
    log_text,
)
from kit.kaggle.submissions import SubmissionCalls


@runtime_checkable
class ChainClient(Protocol):
    """The Kaggle calls `kit submit` (kit/chain/submit.py) and `kit history --sync` (kit/chain/history.py) make, and
    nothing more: KaggleClient is one; the tests' scripted stand-in is bound to it signature by signature
    (tests/test_client_protocol.py), so a change here or in KaggleClient cannot leave the fake behind."""

    username: str
    sandbox: bool

    def submission_limits(self, competition: str) -> SubmissionLimits: ...

    def submissions(self, competition: str) -> list[Submission]: ...

    def leaderboard(self, competition: str) -> list[LeaderboardEntry]: ...

    def dataset_version(self, ref: str) -> tuple[str, int | None]: ...

    def kernel_push(self, folder: Path, *, timeout: int | None = None) -> KernelPush: ...

    def kernel_status(self, ref: str, version: int) -> tuple[str, str]: ...

    def kernel_log(self, ref: str, version: int) -> str: ...

    def kernel_output(self, ref: str, version: int, dest: Path) -> list[Path]: ...

    def submit_code(self, competition: str, kernel_ref: str, version: int, file_name: str, message: str) -> int: ...

    def get_submission(self, ref: int, *, pending_on_404: bool = False) -> Submission: ...


def kaggle_client(config: KitConfig, sandbox: bool | None = None) -> KaggleClient:
    """A client for kaggle.com, or (sandbox=True, or None with KIT_KAGGLE=sandbox) for the local emulator."""
    if sandbox_lib.sandbox_mode(sandbox):
        endpoint = sandbox_lib.ensure_emulator()
        sandbox_lib.set_layout(endpoint, config.kaggle.sandbox_input_layout)
        from kit.pack import get_pack

        sandbox_lib.configure(endpoint, dict(get_pack(config.competition.slug).sandbox_settings(config)))
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


class KaggleClient(SubmissionCalls):
    """Kaggle operations over the official client, with checked answers, retries and bounded waits."""

    username: str  # kit.toml's, else the account's (the sandbox's default user in sandbox mode)
    sandbox: bool

    def __init__(self, config: KitConfig, *, sandbox: bool = False, endpoint_url: str | None = None,
                 retries: int = 4, max_retry_wait: float = 60.0, progress: bool = True) -> None:
        self.config = config
        self.sandbox = sandbox
        self.endpoint_url = endpoint_url
        self.retries = retries
        self.max_retry_wait = max_retry_wait
        self.progress = progress
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
        calls.guard_creates(api)
        try:
            with calls.quiet_stdout():
                api.authenticate()
        except SystemExit:
            raise KaggleAuthError("Kaggle rejected the credentials or none were usable", hint=AUTH_HINT) from None
        except Exception as exc:
            raise KaggleError(f"cannot authenticate with Kaggle: {calls.server_message(exc)}") from None
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

    def _once(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self._scoped_env(), calls.quiet_stdout():
            return fn(*args, **kwargs)

    def _sdk(self, client: str, method: str, request: Any) -> Any:
        """One kagglesdk call ('competitions.competition_api_client', 'list_submissions'), for answers the
        KaggleApi wrappers drop (page tokens, current version numbers)."""
        group, name = client.split(".")
        with self.api.build_kaggle_client() as kaggle:
            return getattr(getattr(getattr(kaggle, group), name), method)(request)

    def _call(self, what: str, fn: Callable[..., Any], *args: Any, slug: str | None = None, **kwargs: Any) -> Any:
        """A read call: retried on 429 (honouring Retry-After), 5xx and lost connections, then mapped."""
        from tenacity import Retrying, retry_if_exception, stop_after_attempt

        retrying = Retrying(stop=stop_after_attempt(self.retries + 1), retry=retry_if_exception(calls.is_transient),
                            wait=lambda state: self._pause(state.outcome.exception(), state.attempt_number - 1),
                            reraise=True)
        try:
            return retrying(self._once, fn, *args, **kwargs)
        except Exception as exc:
            raise self._map(what, exc, slug) from None

    def _create(self, what: str, fn: Callable[..., Any], lookup: Callable[[], Any], *args: Any,
                slug: str | None = None, **kwargs: Any) -> Any:
        """A creating call: after a lost answer (connection dropped, 5xx) `lookup()` asks the server whether it
        acted; its non-None answer is returned instead of a second create. Tried again only when it did not."""
        for attempt in range(self.retries + 1):
            try:
                return self._once(fn, *args, **kwargs)
            except Exception as exc:
                if calls.status_of(exc) == 429 and attempt < self.retries:  # refused, nothing was done
                    time.sleep(self._pause(exc, attempt))
                    continue
                if not calls.outcome_unknown(exc):
                    raise self._map(what, exc, slug) from None
                found = lookup()
                if found is not None:
                    print(f"{what}: the answer was lost ({type(exc).__name__}) but Kaggle had done it",
                          file=sys.stderr)
                    return found
                if attempt == self.retries:
                    raise self._map(what, exc, slug) from None
                time.sleep(self._pause(exc, attempt))
        raise AssertionError("unreachable")

    def _map(self, what: str, exc: BaseException, slug: str | None) -> Exception:
        """`slug`: the competition the call is about (named in a rules refusal)."""
        if isinstance(exc, KaggleError):
            return exc
        return calls.map_error(what, exc, where=self.endpoint_url or "kaggle.com", competition=slug,
                               retries=self.retries)

    def _pause(self, exc: BaseException | None, attempt: int) -> float:
        """Retry-After for a 429 when given, else exponential backoff; capped at max_retry_wait."""
        backoff = min(0.5 * 2**attempt, self.max_retry_wait)
        response = getattr(exc, "response", None)
        try:
            return min(max(float(response.headers.get("Retry-After")), 0.0), self.max_retry_wait)
        except (AttributeError, TypeError, ValueError):
            return backoff

    def _wait(self, what: str, probe: Callable[[], tuple[str, bool]], timeout: float, poll: float) -> str:
        """Poll `probe` (status, done) with backoff (x1.5, capped at 4x `poll`) until done or `timeout`."""
        from tqdm import tqdm

        from kit.poll import PollTimeout, poll_until

        with tqdm(desc=what, total=None, bar_format="{desc}: {postfix} [{elapsed}]", disable=not self.progress,
                  file=sys.stderr) as bar:
            try:
                status, _ = poll_until(probe, lambda answer: answer[1], timeout=timeout, interval=poll, backoff=1.5,
                                       max_interval=poll * 4,
                                       on_answer=lambda answer, _: bar.set_postfix_str(answer[0].lower()))
            except PollTimeout as exc:
                raise WaitTimeoutError(f"{what}: still {exc.last[0]} after {timeout:.0f} s",
                                       hint="it may still finish; re-run later or raise the timeout") from None
        return status

    # ------------------------------------------------------------------ datasets

    def dataset_status(self, ref: str) -> str:
        """The processing status of the dataset's latest version, lower-case ('ready', 'failed', ...)."""
        return str(self._call(f"dataset status {ref}", self.api.dataset_status, ref)).lower()

    def dataset_version(self, ref: str) -> tuple[str, int | None]:
        """(status, current version number) of a dataset. Kaggle makes a new version current only once it is
        processed, so read the number after READY."""
        raw = self._call(f"dataset {ref}", self.api.dataset_status, ref, format="json(status,current_version_number)")
        data = json.loads(raw)
        return str(data.get("status", "")).lower(), data.get("current_version_number")

    def dataset_newest_version(self, ref: str) -> int | None:
        """The highest version number the dataset has, processed or not (None: no such dataset)."""
        from kagglesdk.datasets.types.dataset_api_service import ApiGetDatasetRequest

        request = ApiGetDatasetRequest()
        request.owner_slug, request.dataset_slug = ref.split("/")[:2]
        try:
            answer = self._call(f"dataset {ref}", self._sdk, "datasets.dataset_api_client", "get_dataset", request)
        except KaggleNotFoundError:
            return None
        numbers = [int(v.version_number or 0) for v in answer.versions or []]
        return max(numbers + [int(answer.current_version_number or 0)])

    def dataset_push(self, folder: Path, slug: str, *, public: bool = False, notes: str = "", wait: bool = True,
                     timeout: float | None = None, license: str | None = None, title: str | None = None,
                     poll: float | None = None, files: list[Path] | None = None,
                     digest: str | None = None) -> DatasetPush:
        """Create the dataset or a new version from a clean copy of `folder`; wait for READY, then read the
        version number (Kaggle makes a version current only once processed). Records nothing: see kit/chain/pushes.py.

        `timeout` and `license` default to kit.toml's [kaggle] dataset_timeout_seconds and dataset_license.
        """
        started = time.monotonic()
        timeout = float(timeout if timeout is not None else self.config.kaggle.dataset_timeout_seconds)
        license = metadata.check_license(license or self.config.kaggle.dataset_license)
        folder = Path(folder)
        ref = f"{self.username}/{metadata.check_slug(slug)}"
        meta = metadata.dataset_metadata(self.username, slug, title=title, license=license)
        files = files if files is not None else metadata.clean_files(folder)
        if not files:
            raise InputError(f"{folder} has no files to push")
        digest = digest or metadata.content_hash(folder, files)
        size = sum((folder / f).stat().st_size for f in files)
        staging = Path(tempfile.mkdtemp(prefix="kit-push-"))
        try:
            metadata.stage(folder, staging, meta, files)
            made = self._upload(ref, staging, public=public, notes=notes)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        status, version = "pending", None
        if wait:
            status = self.wait_dataset(ref, timeout=timeout, poll=poll or (0.2 if self.sandbox else 2.0))
            version = self.dataset_version(ref)[1]
        return DatasetPush(ref, version if version is not None else made, digest, status=status,
                           files=tuple(str(f) for f in files), size_bytes=size, seconds=time.monotonic() - started)

    def _upload(self, ref: str, staging: Path, *, public: bool, notes: str) -> int | None:
        """Create the dataset or a version; returns the version number the server made when it is known."""
        before = self.dataset_newest_version(ref)
        exists = before is not None
        verb = "version" if exists else "create"

        def lookup() -> Any:  # did the lost call make a version?
            now = self.dataset_newest_version(ref)
            return _Made(now) if now is not None and now != before else None

        try:
            if exists:
                resp = self._create(f"dataset version {ref}", self.api.dataset_create_version, lookup, str(staging),
                                    notes or "pushed by kit", quiet=not self.progress, dir_mode="zip")
            else:
                resp = self._create(f"dataset create {ref}", self.api.dataset_create_new, lookup, str(staging),
                                    public=public, quiet=not self.progress, dir_mode="zip")
        except KaggleError:
            _forget_upload_state(staging)  # a stale resume entry would break the next upload of this path
            raise
        if isinstance(resp, _Made):
            return resp.version
        if (resp.status or "").lower() != "ok" or resp.error:
            raise KaggleError(f"dataset {verb} {ref} failed: {resp.error or resp.status}",
                              hint="check the dataset quota and metadata on kaggle.com")
        return (before or 0) + 1

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

    def kernel_current_version(self, ref: str) -> int | None:
        """The kernel's newest version number (None: no such kernel yet)."""
        from kagglesdk.kernels.types.kernels_api_service import ApiGetKernelRequest

        request = ApiGetKernelRequest()
        request.user_name, request.kernel_slug = ref.split("/")
        try:
            answer = self._call(f"kernel {ref}", self._sdk, "kernels.kernels_api_client", "get_kernel", request)
        except KaggleNotFoundError:
            return None
        return int(answer.metadata.current_version_number or 0) if answer.metadata else None

    def kernel_push(self, folder: Path, *, timeout: int | None = None) -> KernelPush:
        """Push the kernel in `folder` (kernel-metadata.json + code file); returns its new version.

        Malformed metadata, a retired or unknown accelerator and an oversized source are refused before
        anything is sent. A push whose answer is lost is looked up (the kernel's newest version), not repeated.
        """
        meta = kernel_metadata.load(Path(folder))
        ref = str(meta.get("id", ""))
        if meta.get("code_file"):
            kernel_metadata.check_source_size(Path(folder) / str(meta["code_file"]))
        session = timeout or self.config.kaggle.kernel_timeout_seconds
        before = self.kernel_current_version(ref) if ref else None

        def lookup() -> Any:
            now = self.kernel_current_version(ref) if ref else None
            return KernelPush(ref, now, "") if now and now != before else None

        resp = self._create(f"kernel push {ref}", self.api.kernels_push, lookup, str(folder), timeout=session)
        if isinstance(resp, KernelPush):
            return resp
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


class _Made:
    """What a lost creating call turned out to have made (a dataset version number)."""

    def __init__(self, version: int) -> None:
        self.version = version


def sandbox_username() -> str:
    return sandbox_lib.DEFAULT_USER


def _forget_upload_state(staging: Path) -> None:
    """Remove the official client's resume entries for files under `staging` (kaggle_api.md §8)."""
    state_dir = Path(tempfile.gettempdir()) / (f".kaggle-uploads-{os.geteuid()}" if hasattr(os, "geteuid")
                                              else ".kaggle-uploads")
    prefix = str(staging).replace(os.sep, "_").replace(":", "_")
    for entry in state_dir.glob(prefix + "*.json") if state_dir.is_dir() else ():
        entry.unlink(missing_ok=True)
