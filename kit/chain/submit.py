"""`kit submit`: the pinned chain from a built kernel folder to a scored submission.

Push the kernel built by `kit build-submission` (see kit/chain/build.py), wait for it, validate its output, code-submit
that exact version and poll the score. Every step is recorded on one ledger row, so an interrupted attempt is
continued rather than started again.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kit import __version__
from kit.artefacts import KernelInfo
from kit.artefacts import SubmissionStatus as Status
from kit.chain.build import load_kernel, sandbox_mode
from kit.chain.experiments import refuse_resubmission
from kit.chain.uploads import check_kernel
from kit.config import KitConfig
from kit.errors import DirtyTreeError, InputError, KaggleNotFoundError
from kit.git import git_state
from kit.kaggle.kernel_metadata import METADATA_NAME
from kit.kaggle.results import score_value, status_name
from kit.mechanisms.registry import get_mechanism
from kit.pack import SubmissionSpec

if TYPE_CHECKING:  # the client module is imported only when a submit talks to Kaggle
    from kit.kaggle.client import ChainClient

__all__ = ["log_tail", "marker", "submit"]


# ============================================================================ the chain: push, run, check, submit

POLL_KAGGLE = (20.0, 60.0)   # first interval, cap: Kaggle does not publish rate limits; stay polite
POLL_SANDBOX = (0.3, 2.0)
QUEUE_SLACK_S = 1800  # beyond the kernel's session: Kaggle's queue before it starts and the scoring after
LOG_TAIL_LINES = 20
HEARTBEAT = 30.0             # the longest a wait stays silent: a "still RUNNING (4 min 30 s)" line between polls


def _say(msg: str) -> None:
    import sys

    print(msg, file=sys.stderr, flush=True)


def marker(kernel_ref: str, version: int) -> str:
    """The tag put in a submission's description: how a re-run recognises its own submission on Kaggle."""
    return f"[kit {kernel_ref}/{version}]"


def log_tail(log: str, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of a kernel log; Kaggle's JSON log form ([{stream_name, data}...]) is flattened first."""
    from kit.kaggle.results import log_text

    return "\n".join(log_text(log).rstrip().splitlines()[-lines:])


class _Chain:
    """One submission attempt, one ledger row: every step records where it got to, so a re-run continues."""

    def __init__(self, client: ChainClient, ledger: Any, row_id: int, *, competition: str, sandbox: bool,
                 folder: Path, info: KernelInfo, timeout: float, say: Any, poll: tuple[float, float],
                 resume: str = "kit submit --resume") -> None:
        self.client, self.ledger, self.id = client, ledger, row_id
        self.competition, self.sandbox, self.folder, self.info = competition, sandbox, folder, info
        self.timeout, self.say, self.poll, self.resume = timeout, say, poll, resume

    @property
    def row(self) -> dict[str, Any]:
        return self.ledger.get_submission(self.id)

    def update(self, **fields: Any) -> None:
        self.ledger.update_submission(self.id, **fields)

    def fail(self, exc: Exception, status: Status | None = None) -> Exception:
        """Record the error text (and a final status when given) on the row; returns `exc` to raise."""
        self.update(error=str(exc), **({"status": status} if status else {}))
        return exc

    # ---------------------------------------------------------------- steps

    def check_limit(self, final: bool) -> None:
        """NotJoinedError when the account is on no team yet (every count zero), DailyLimitError when no
        submission is left today (status 'refused' when nothing was pushed yet)."""
        from kit.errors import DailyLimitError, NotJoinedError, RulesNotAcceptedError

        try:
            limits = self.client.submission_limits(self.competition)
            if final:  # the listing answers 403 while the rules are not accepted: know it before the push
                self.client.submissions(self.competition)
        except RulesNotAcceptedError as exc:  # nothing pushed, nothing spent
            raise self.fail(exc, Status.REFUSED if final else None) from None
        if getattr(limits, "not_joined", False):
            exc = NotJoinedError(f"you have not joined {self.competition} (Kaggle reports no team and no "
                                 "submissions for this account)",
                                 hint=f"open https://www.kaggle.com/competitions/{self.competition}, press Join "
                                      "Competition and accept the rules (the API cannot), then run it again")
            raise self.fail(exc, Status.REFUSED if final else None)
        left = getattr(limits, "num_allowed_now", None)
        if left is not None and left <= 0:
            exc = DailyLimitError(
                f"no submissions left today for {self.competition} ({getattr(limits, 'num_today', '?')} made)",
                hint="try again after the daily reset (00:00 UTC)" + ("" if final else f"; then `{self.resume}`"))
            raise self.fail(exc, Status.REFUSED if final else None)

    def wait_datasets(self, meta: dict[str, Any]) -> None:
        """Wait until every dataset source is READY: a kernel pushed earlier might mount an older version. A source
        pinned as owner/slug/N mounts exactly version N, which must exist; an unpinned one mounts the latest."""
        from kit.errors import KaggleError

        pins = {p.ref: p.version for p in self.info.pins()}
        for source in meta.get("dataset_sources", []):
            parts = source.split("/")
            ref, pinned = "/".join(parts[:2]), int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else None

            def check(source: str = source) -> tuple[str, Any]:  # the status of the dataset's latest version
                state, current = self.client.dataset_version(source)
                return status_name(state), current
            state, current = self._wait(check, {"READY", "FAILED", "DELETED"}, f"dataset {ref}")
            if state != "READY":
                raise self.fail(KaggleError(f"dataset {ref} is {state}", hint="push it again"), Status.ERROR)
            if pinned and current and int(current) < pinned:
                raise self.fail(InputError(f"dataset {ref} has no version {pinned} (it is at version {current})",
                                           hint="push it, then run `kit build-submission` again"), Status.ERROR)
            if not pinned and pins.get(ref) and current and int(current) != int(pins[ref]):
                # an unpinned source mounts the latest version: a kernel built for another one must be rebuilt
                raise self.fail(InputError(f"dataset {ref} is at version {current}, the kernel was built for "
                                           f"version {pins[ref]}", hint="run `kit build-submission` again"),
                                Status.ERROR)

    def push(self) -> None:
        self.update(status=Status.PUSHING)
        try:
            pushed = self.client.kernel_push(self.folder)
        except Exception as exc:
            raise self.fail(exc, Status.ERROR) from None
        self.update(status=Status.RUNNING, kernel_ref=pushed.ref, kernel_version=pushed.version, error=None)
        self.say(f"pushed kernel {pushed.ref} version {pushed.version}")

    def wait_kernel(self, wait: bool) -> bool:
        """Poll the pushed version; True when COMPLETE. On ERROR the log tail is shown and recorded."""
        from kit.errors import KernelFailedError

        row = self.row
        ref, version = row["kernel_ref"], row["kernel_version"]
        done = {"COMPLETE", "ERROR", "CANCEL_ACKNOWLEDGED", "CANCEL_REQUESTED"}

        def check() -> tuple[str, Any]:
            state, failure = self.client.kernel_status(ref, version)
            return status_name(state), failure

        state, failure = self._wait(check, done, f"kernel {ref} v{version}", once=not wait)
        if state == "COMPLETE":
            return True
        if state not in done:
            return False
        try:
            tail = log_tail(self.client.kernel_log(ref, version))
        except Exception as exc:  # the failure itself matters more than a missing log
            tail = f"(log unavailable: {exc})"
        self.say(f"--- kernel log (last {LOG_TAIL_LINES} lines) ---\n{tail}\n---")
        exc = KernelFailedError(f"kernel {ref} v{version} ended {state}: {failure or 'no failure message'}",
                                hint="see the log tail above; nothing was submitted")
        self.update(error=f"{exc}\n{tail}", status=Status.KERNEL_ERROR)
        raise exc

    def check_output(self) -> None:
        row = self.row
        dest = self.folder / "output" / f"v{row['kernel_version']}"
        try:
            self.client.kernel_output(row["kernel_ref"], row["kernel_version"], dest)
        except Exception as exc:  # transient: the row stays resumable
            raise self.fail(exc) from None
        spec = self.submission_spec()
        name = spec.file_name
        try:
            n = get_mechanism(spec.mechanism).check_output(spec, dest)
        except Exception as exc:
            raise self.fail(exc, Status.INVALID_OUTPUT) from None
        self.update(status=Status.SUBMITTING, submission_file=name)
        self.say(f"kernel output {name}: {n} rows, valid")

    def submission_spec(self) -> SubmissionSpec:
        """What the built kernel delivers, as kit_kernel.json recorded it."""
        info = self.info
        return SubmissionSpec(tuple(info.submission_columns), info.submission_file, info.submission_mechanism)

    def submit_once(self, message: str) -> None:
        """Create the code submission unless this kernel version already has one (ledger or Kaggle)."""
        row = self.row
        ref, version = row["kernel_ref"], row["kernel_version"]
        tag = marker(ref, version)
        earlier = [r for r in self.ledger.submissions_of_kernel(ref, version, sandbox=self.sandbox)
                   if r["id"] != self.id]
        if row["submission_ref"] is None and earlier:
            self.update(submission_ref=earlier[0]["submission_ref"], status=Status.PENDING)
        if self.row["submission_ref"] is None:
            for sub in self.client.submissions(self.competition):
                if tag in (getattr(sub, "description", "") or ""):
                    self.update(submission_ref=sub.ref, status=Status.PENDING)
                    self.say(f"kernel {ref} v{version} was already submitted (submission {sub.ref})")
                    break
        if self.row["submission_ref"] is not None:
            return
        self.check_limit(final=False)
        text = f"{message} {tag}".strip()
        try:
            sub_ref = self.client.submit_code(self.competition, ref, version, row["submission_file"], text)
        except Exception as exc:  # it may or may not exist now: a re-run looks for the tag first
            raise self.fail(exc) from None
        self.update(submission_ref=sub_ref, status=Status.PENDING, error=None)
        self.say(f"submitted kernel {ref} v{version}: submission {sub_ref}")

    def wait_score(self, wait: bool) -> bool:
        """Poll the submission until scored; True when COMPLETE."""
        from kit.errors import SubmissionError

        ref = self.row["submission_ref"]

        def check() -> tuple[str, Any]:
            sub = self.client.get_submission(ref, pending_on_404=True)  # not yet visible: still PENDING
            return status_name(sub.status), sub

        state, sub = self._wait(check, {"COMPLETE", "ERROR"}, f"submission {ref}", once=not wait)
        if state == "ERROR":
            why = getattr(sub, "error", None) or "no error text"
            raise self.fail(SubmissionError(f"submission {ref} failed scoring: {why}"), Status.ERROR)
        if state != "COMPLETE":
            return False
        self.update(status=Status.COMPLETE, public_score=score_value(sub.public_score),
                    private_score=score_value(sub.private_score),
                    error=None)
        return True

    def snapshot(self) -> None:
        """Record the leaderboard after a score (best effort: a failing leaderboard call fails nothing)."""
        from kit.errors import KitError

        try:
            board = self.client.leaderboard(self.competition)
        except KitError as exc:
            self.say(f"leaderboard snapshot skipped: {exc}")
            return
        scores = [e.score for e in board if e.score is not None]
        user = (getattr(self.client, "username", "") or "").lower()
        ours = [e.rank for e in board if (e.team_name or "").lower() == user]
        best = [r["public_score"] for r in self.ledger.submission_rows(self.competition, sandbox=self.sandbox)
                if r["status"] == Status.COMPLETE and r["public_score"] is not None]
        self.ledger.add_leaderboard_snapshot(self.competition, our_best=max(best) if best else None,
                                             our_rank=ours[0] if ours else None,
                                             top_score=max(scores) if scores else None, n_teams=len(board),
                                             sandbox=self.sandbox)

    # ---------------------------------------------------------------- polling

    def _wait(self, check: Any, done: set[str], what: str, once: bool = False) -> tuple[str, Any]:
        """Poll `check` ((state, extra)) with backoff until its state is in `done`, the timeout passes, or once.

        A line is said on every change of state and, between polls (a minute apart on Kaggle), at least every
        HEARTBEAT seconds, so a long wait never looks like a hang."""
        from kit.errors import WaitTimeoutError
        from kit.poll import PollTimeout, poll_until

        started = time.monotonic()
        said = {"state": None, "at": 0.0}  # the last state said, and when (seconds into the wait)

        def probe() -> tuple[str, Any]:
            try:
                return check()
            except Exception as exc:  # keep the row resumable; say what broke
                raise self.fail(exc) from None

        def tell(state: str, still: bool) -> None:
            elapsed = time.monotonic() - started
            self.say(f"{what}: {'still ' if still else ''}{state} ({duration(elapsed)})")
            said.update(state=state, at=elapsed)

        def progress(answer: tuple[str, Any], _elapsed: float) -> None:
            if answer[0] != said["state"]:
                tell(answer[0], still=False)

        def sleep(seconds: float) -> None:  # poll_until's pause, cut into heartbeats
            end = time.monotonic() + seconds
            while (left := end - time.monotonic()) > 0:
                time.sleep(max(0.0, min(left, said["at"] + HEARTBEAT - (time.monotonic() - started))))
                if time.monotonic() - started - said["at"] >= HEARTBEAT:
                    tell(str(said["state"]), still=True)

        interval, cap = self.poll
        try:
            return poll_until(probe, lambda answer: once or answer[0] in done, timeout=self.timeout,
                              interval=interval, backoff=1.5, max_interval=cap, on_answer=progress, sleep=sleep)
        except PollTimeout as exc:
            raise self.fail(WaitTimeoutError(f"{what} still {exc.last[0]} after {duration(exc.elapsed)}",
                                             hint=f"`{self.resume}` continues waiting")) from None


def duration(seconds: float) -> str:
    """`42 s`, `3 min 05 s`, `2 h 07 min`: elapsed time as a person reads it."""
    whole = int(seconds)
    if whole < 60:
        return f"{seconds:.0f} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


# ============================================================================ entry points


def submit(config: KitConfig, kernel_dir: Path | None = None, *, message: str = "", wait: bool = True,
           allow_dirty: bool = False, resume: bool = False, sandbox: bool | None = None,
           timeout: float | None = None, client: ChainClient | None = None, ledger: Any = None, say: Any = None,
           poll: tuple[float, float] | None = None, force: bool = False) -> dict[str, Any]:
    """Push a built kernel, wait for it, validate its output, code-submit that version and poll the score.

    Every step is recorded on one ledger row; an interrupted attempt (same kernel hash, or `resume`) is
    continued instead of started again, and a kernel version is never submitted twice. Kernel content that
    already has a scored or pending submission is refused (recorded, nothing spent) unless `force`.
    Returns the row."""
    from kit.ledger import Ledger

    sandbox = sandbox_mode(sandbox)
    say = say or _say
    comp = config.competition.slug
    led = ledger or Ledger()
    try:
        row = _resumable(led, comp, sandbox, kernel_dir) if resume else None
        folder = Path(kernel_dir or (row["kernel_dir"] if row else "kernel"))
        meta, info, khash = load_kernel(folder)
        check_built_for(folder, info, comp, sandbox)
        check_kernel(folder, meta["code_file"], METADATA_NAME)  # what a push uploads: links, credentials
        if row is not None and row["kernel_hash"] != khash:
            raise InputError(f"{folder} changed since attempt #{row['id']} was started",
                             hint="rebuild is a new attempt: run `kit submit` without --resume")
        row = row or next(iter(led.open_submissions(comp, sandbox=sandbox, kernel_hash=khash)), None)
        if row is not None:
            say(f"continuing attempt #{row['id']} ({row['status']})")
            row_id = row["id"]
        else:
            row_id = _new_attempt(led, comp, sandbox, folder, info, khash, message, allow_dirty)
            if not force:
                refuse_resubmission(led, row_id, info.content_key, sandbox=sandbox)
        try:
            if client is None:
                from kit.kaggle.client import kaggle_client

                client = kaggle_client(config, sandbox=sandbox)
            chain = _Chain(client, led, row_id, competition=comp, sandbox=sandbox, folder=folder, info=info,
                           timeout=timeout or float(config.kaggle.kernel_timeout_seconds + QUEUE_SLACK_S), say=say,
                           poll=poll or (POLL_SANDBOX if sandbox else POLL_KAGGLE),
                           resume=resume_command(led.get_submission(row_id), config))
            _run(chain, meta, wait)
        except KeyboardInterrupt:
            command = resume_command(led.get_submission(row_id), config)
            led.update_submission(row_id, error=f"interrupted: `{command}` continues this attempt")
            say(f"interrupted: attempt #{row_id} is kept ({led.get_submission(row_id)['status']}); "
                f"continue it with: {command}")
            raise
        except Exception as exc:  # every failure leaves its text on the row (steps record most themselves)
            _record_failure(led, row_id, exc)
            raise
        return led.get_submission(row_id)
    finally:
        if ledger is None:
            led.close()


def check_built_for(folder: Path, info: KernelInfo, competition: str, sandbox: bool) -> None:
    """InputError, before any call to Kaggle, when the kernel in `folder` cannot be submitted from here: built for
    another competition, for the sandbox when this submit goes to Kaggle (its refs name the sandbox account and
    its sources) or the reverse, or lacking a source it cannot run without (built before it was pushed)."""
    path = folder / info.FILE_NAME
    if info.competition and info.competition != competition:
        raise InputError(f"{path}: built for competition {info.competition!r}, but this workspace's is "
                         f"{competition!r}", hint="rebuild it here, or use its kit.toml")
    if info.sandbox is not None and info.sandbox != sandbox:
        built, here = ("the sandbox", "Kaggle") if info.sandbox else ("Kaggle", "the sandbox")
        rebuild = "kit build-submission" + (" --sandbox" if sandbox else "")
        raise InputError(f"{path}: built for {built} (\"sandbox\": {str(info.sandbox).lower()}), but this submit "
                         f"goes to {here}", hint=f"rebuild it with `{rebuild}`, or submit it "
                                                 f"{'with' if info.sandbox else 'without'} --sandbox")
    lacking = _lacking(info)
    if lacking:
        raise InputError(f"{path}: the kernel mounts no {' or '.join(lacking)} source, which it cannot run without "
                         "(built before that dataset was pushed)",
                         hint="push it (`kit build-submission` names the command), then build again")


def _lacking(info: KernelInfo) -> list[str]:
    """The sources the kernel needs but does not mount. A kit_kernel.json written before `required_sources`
    existed tells it by a wheels pin without a version that was left unmounted: nothing was pushed."""
    if info.required_sources is not None:
        return [name for name in info.required_sources if name not in info.sources]
    unpushed = info.wheels is not None and info.wheels.version is None and "wheels" not in info.sources
    return ["wheels"] if unpushed else []


def resume_command(row: dict[str, Any], config: KitConfig | None = None) -> str:
    """The exact command that continues attempt `row`: its mode, its kernel folder (left out when it is ./kernel)
    and the config file it was made with (when not ./kit.toml)."""
    import shlex

    words = ["kit"]
    if config is not None and config.path is not None and Path(config.path).resolve() != Path("kit.toml").resolve():
        words += ["--config", shlex.quote(str(config.path))]
    words += ["submit", "--resume"] + (["--sandbox"] if row.get("sandbox") else [])
    folder = Path(row.get("kernel_dir") or "kernel")
    if folder.resolve() != Path("kernel").resolve():
        words.append(shlex.quote(_shown(folder)))
    return " ".join(words)


def _shown(folder: Path) -> str:
    """`folder` relative to the current folder when it lies under it, else absolute."""
    try:
        return str(folder.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(folder.resolve())


def _record_failure(led: Any, row_id: int, exc: Exception) -> None:
    """Leave `exc`'s text on the row. An attempt that failed before anything was pushed (credentials, a dataset
    that is not there) ends as ERROR: nothing of it is left to continue. A wait that timed out stays open: its
    message says how to continue it."""
    from kit.errors import WaitTimeoutError

    row = led.get_submission(row_id)
    fields: dict[str, Any] = {}
    if not (row["error"] or "").startswith(str(exc)):
        fields["error"] = str(exc)
    if row["status"] == Status.STARTING and not isinstance(exc, WaitTimeoutError):
        fields["status"] = Status.ERROR
    led.update_submission(row_id, **fields)


def _resumable(led: Any, comp: str, sandbox: bool, kernel_dir: Path | None) -> dict[str, Any]:
    rows = led.open_submissions(comp, sandbox=sandbox)
    if kernel_dir is not None:
        rows = [r for r in rows if r["kernel_dir"] == str(Path(kernel_dir).resolve())]
    if not rows:
        where = " in the sandbox" if sandbox else ""
        raise KaggleNotFoundError(f"no interrupted submission to resume for {comp}{where}",
                                  hint="`kit history` lists every attempt")
    return rows[0]


def _new_attempt(led: Any, comp: str, sandbox: bool, folder: Path, info: KernelInfo, khash: str,
                 message: str, allow_dirty: bool) -> int:
    """A new ledger row with the kernel's provenance; a dirty tree is refused (and recorded) unless allowed."""
    sha, dirty = git_state(exclude=folder)
    adapter, wheels = info.adapter, info.wheels
    default = f"kit: template {info.template}" + (f", adapter v{adapter.version}" if adapter and adapter.version
                                                  else "")
    row_id = led.add_submission(
        comp, Status.STARTING, sandbox=sandbox, message=message or default, kernel_hash=khash,
        kernel_dir=str(folder.resolve()), kernel_ref=info.kernel_ref, template=info.template,
        parameters=info.parameters, adapter_ref=adapter and adapter.ref,
        adapter_version=adapter and adapter.version, wheels_ref=wheels and wheels.ref,
        wheels_version=wheels and wheels.version,
        base_model_source=info.base_model, git_sha=sha, git_dirty=dirty, kit_version=__version__,
        local_score=info.local_score, content_key=info.content_key, origin="kit")
    if dirty and not allow_dirty:
        exc = DirtyTreeError("the git tree has uncommitted changes",
                             hint="commit them so the ledger's git SHA means something, or pass --allow-dirty")
        led.update_submission(row_id, status=Status.REFUSED, error=str(exc))
        raise exc
    return row_id


def _run(chain: _Chain, meta: dict[str, Any], wait: bool) -> None:
    row = chain.row
    if row["kernel_version"] is None:
        chain.check_limit(final=True)  # before the push: a run nobody can submit wastes GPU quota
        chain.wait_datasets(meta)
        chain.push()
        if not wait:
            return
    if chain.row["status"] == Status.RUNNING:
        if not chain.wait_kernel(wait):
            return
        chain.check_output()
    if chain.row["status"] == Status.SUBMITTING:
        chain.submit_once(chain.row["message"] or "")
    if chain.row["status"] == Status.PENDING and chain.wait_score(wait):
        chain.snapshot()
