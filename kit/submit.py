"""`kit build-submission`: render the inference notebook for Kaggle and write its kernel-metadata.json.

The rendered kernel is bound to what the ledger knows was pushed: the adapter and wheels dataset versions, the
base model source. Everything is validated before anything is sent; the resolved parameters and provenance are
saved beside the notebook as `kit_kernel.json`, which `kit submit` copies into the ledger.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

from kit import __version__
from kit.config import KitConfig, write_json
from kit.errors import ConfigError, DirtyTreeError, InputError
from kit.kaggle import kernel_metadata as km

KIT_KERNEL_NAME = "kit_kernel.json"
NOTEBOOK_NAME = "infer"
DEFAULT_COLUMNS = ("id", "rewrite_prompt")


def sandbox_mode(sandbox: bool | None) -> bool:
    """An explicit flag wins; None reads KIT_KAGGLE=sandbox."""
    return bool(sandbox) if sandbox is not None else os.environ.get("KIT_KAGGLE", "").lower() == "sandbox"


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


def adapter_local_score(adapter_dir: str | Path | None) -> float | None:
    """The validation score recorded in an adapter's kit_adapter.json, when there is one."""
    if not adapter_dir:
        return None
    path = Path(adapter_dir) / "kit_adapter.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return _find_score(data)


def _find_score(data: Any) -> float | None:
    # kit_adapter.json layouts differ between kit versions: accept a flat or a nested validation score
    if not isinstance(data, dict):
        return None
    for key in ("validation_score", "val_score", "local_score"):
        if isinstance(data.get(key), (int, float)):
            return float(data[key])
    for key in ("val_score", "validation", "val", "eval"):  # kit train writes val_score: {"mean": ...}
        sub = data.get(key)
        if isinstance(sub, dict):
            for inner in ("score", "mean", "validation_score"):
                if isinstance(sub.get(inner), (int, float)):
                    return float(sub[inner])
        elif isinstance(sub, (int, float)):
            return float(sub)
    return None


def submission_columns() -> list[str]:
    """The competition's submission header, from the bundled sample_submission.csv."""
    from kit.assets import sample_data_dir

    path = sample_data_dir() / "sample_submission.csv"
    if path.is_file():
        with path.open(newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh), None)
        if header:
            return header
    return list(DEFAULT_COLUMNS)


def _template(name: str) -> tuple[str, bool]:
    """(name, needs a model) for a registered template."""
    try:
        from kit.recovery.templates import get_template
    except ImportError:  # the registry has not landed: trust the name, assume a model is needed
        return name, name != "mean"
    tpl = get_template(name)
    return tpl.name, bool(tpl.primes)


def kernel_hash(folder: Path, meta: dict[str, Any]) -> str:
    """sha256 over the notebook's cell sources, its kernelspec and the metadata: what Kaggle would run.

    Papermill's own volatile metadata (paths, timestamps) is left out, so rebuilding the same kernel gives the
    same hash and `kit submit` continues its pending attempt instead of starting another."""
    nb = json.loads((folder / meta["code_file"]).read_text(encoding="utf-8"))
    cells = [("".join(c.get("source", "")) if isinstance(c.get("source"), list) else c.get("source", ""))
             for c in nb.get("cells", [])]
    body = {"cells": cells, "kernelspec": nb.get("metadata", {}).get("kernelspec"), "meta": meta}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _sources(config: KitConfig, owner: str, sandbox: bool, needs_model: bool,
             ledger: Any) -> tuple[dict[str, Any], list[str], list[str], list[str]]:
    """Mount names, dataset refs, model refs and notes for the adapter, wheels and base model."""
    mounts: dict[str, Any] = {"model_dir": "", "adapter_dir": "", "wheels_dir": ""}
    pins: dict[str, Any] = {}
    datasets: list[str] = []
    models: list[str] = []
    notes: list[str] = []
    if needs_model:
        base = config.kaggle.base_model
        if base:
            (models if km.source_kind(base) == "model" else datasets).append(base)
            mounts["model_dir"] = km.mount_name(base)
            pins["base_model"] = base
        elif sandbox:  # the sandbox runs kernels with this kit installed: its embedded tiny model is there
            pins["base_model"] = "kit:tiny-model"
            notes.append("no [kaggle] base_model: the sandbox kernel uses the kit's embedded tiny model")
        else:
            raise ConfigError("[kaggle] base_model is empty: a Kaggle kernel needs a mounted base model",
                              hint="set it to a dataset 'owner/slug' or a model 'owner/model/framework/variation/v'")
    for key, slug in (("adapter", config.kaggle.adapter_dataset), ("wheels", config.kaggle.wheels_dataset)):
        ref = f"{owner}/{km.check_slug(slug, key + ' dataset slug')}"
        rec = ledger.latest_dataset_version(ref, sandbox=sandbox)
        pins[key] = {"ref": ref, "version": rec["version"] if rec else None}
        if key == "adapter" and not needs_model:
            continue
        if rec is None:
            notes.append(f"no pushed {key} dataset {ref} in the ledger: the kernel runs without it")
            continue
        datasets.append(ref)
        mounts[f"{key}_dir"] = km.mount_name(ref)
    return {**mounts, "pins": pins}, datasets, models, notes


def _owner(config: KitConfig, sandbox: bool) -> str:
    """kit.toml's username; in the sandbox without one, the sandbox account (as the sandbox client uses)."""
    if config.kaggle.username or not sandbox:
        return config.kaggle.username
    from kit.kaggle.sandbox import DEFAULT_USER

    return DEFAULT_USER


def build_submission(config: KitConfig, *, template: str | None = None, out: Path = Path("kernel"),
                     sandbox: bool | None = None, username: str | None = None, notebook: Path | None = None,
                     ledger: Any = None) -> dict[str, Any]:
    """Render the inference notebook (prepare only) into `out` with kernel-metadata.json and kit_kernel.json.

    Returns the kit_kernel.json content plus `folder`, `notebook`, `metadata` and `notes`."""
    from kit import notebooks
    from kit.ledger import Ledger

    sandbox = sandbox_mode(sandbox)
    owner = km.check_owner(username or _owner(config, sandbox))
    kg, inf = config.kaggle, config.infer
    name, needs_model = _template(template or inf.template)
    src = notebook or notebooks.template_path(NOTEBOOK_NAME)
    led = ledger or Ledger()
    try:
        found, datasets, models, notes = _sources(config, owner, sandbox, needs_model, led)
    finally:
        if ledger is None:
            led.close()
    pins = found.pop("pins")
    wanted = {"template": name, "budget_seconds": inf.budget_seconds, "margin_seconds": inf.margin_seconds,
              "batch_size": inf.batch_size, "max_new_tokens": inf.max_new_tokens,
              "max_field_tokens": inf.max_field_tokens, "mean_prompt": config.mean_prompt.text,
              "competition": config.competition.slug, "load_in_4bit": inf.load_in_4bit,
              "merge_adapter": inf.merge_adapter, **found}
    known = notebooks.parameters(src)
    if "template" not in known:
        raise InputError(f"{src}: no 'template' parameter in its parameters cell")
    params = {k: v for k, v in wanted.items() if k in known}
    code_file = f"{NOTEBOOK_NAME}.ipynb"
    meta = km.build(owner=owner, slug=kg.kernel_slug, title=kg.kernel_title, code_file=code_file,
                    accelerator=kg.accelerator, competition=config.competition.slug, datasets=datasets, models=models)
    out.mkdir(parents=True, exist_ok=True)
    dst = notebooks.render(src, out / code_file, params)
    km.check_source_size(dst)
    write_json(out / km.METADATA_NAME, meta)
    sha, dirty = git_state(exclude=out)
    info = {
        "template": name, "parameters": params, "adapter": pins.get("adapter"), "wheels": pins.get("wheels"),
        "base_model": pins.get("base_model"), "git_sha": sha, "git_dirty": dirty, "kit_version": __version__,
        "notebook_sha256": hashlib.sha256(dst.read_bytes()).hexdigest(), "kernel_hash": kernel_hash(out, meta),
        "kernel_ref": meta["id"], "competition": config.competition.slug, "sandbox": sandbox,
        "submission_file": config.competition.submission_file, "submission_columns": submission_columns(),
        "local_score": adapter_local_score(inf.adapter_path), "session_timeout": kg.kernel_timeout_seconds,
    }
    write_json(out / KIT_KERNEL_NAME, info)
    return {**info, "folder": str(out), "notebook": str(dst), "metadata": meta, "notes": notes}


def load_kernel(folder: Path) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(kernel-metadata, kit_kernel.json, current kernel hash) of a built kernel folder, validated."""
    meta = km.read(folder)
    path = folder / KIT_KERNEL_NAME
    info: dict[str, Any] = {}
    if path.is_file():
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: not valid JSON: {exc}") from None
    return meta, info, kernel_hash(folder, meta)


# ============================================================================ the chain: push, run, check, submit

FINAL = ("complete", "error", "kernel_error", "invalid_output", "refused")
POLL_KAGGLE = (20.0, 60.0)   # first interval, cap: Kaggle does not publish rate limits; stay polite
POLL_SANDBOX = (0.3, 2.0)
LOG_TAIL_LINES = 20
PROGRESS_EVERY = 300.0       # seconds between "still RUNNING" lines on long waits


def _say(msg: str) -> None:
    import sys

    print(msg, file=sys.stderr, flush=True)


def _status(value: Any) -> str:
    """Normalise an enum or string status ('KernelWorkerStatus.COMPLETE', 'complete') to 'COMPLETE'."""
    text = str(getattr(value, "name", value)).rsplit(".", 1)[-1].upper()
    return {"CANCELACKNOWLEDGED": "CANCEL_ACKNOWLEDGED", "CANCELREQUESTED": "CANCEL_REQUESTED"}.get(text, text)


def marker(kernel_ref: str, version: int) -> str:
    """The tag put in a submission's description: how a re-run recognises its own submission on Kaggle."""
    return f"[kit {kernel_ref}/{version}]"


def log_tail(log: str, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of a kernel log; Kaggle's JSON log form ([{stream_name, data}...]) is flattened first."""
    text = log
    try:
        entries = json.loads(log)
        if isinstance(entries, list):
            text = "".join(str(e.get("data", "")) for e in entries if isinstance(e, dict))
    except (json.JSONDecodeError, TypeError):
        pass
    return "\n".join(text.rstrip().splitlines()[-lines:])


def check_submission_file(path: Path, columns: list[str], expected_ids: set[str] | None = None) -> int:
    """SubmissionError unless `path` is a CSV with `columns`, at least one row, unique non-empty ids and
    no blank value; with `expected_ids`, every one of them must be present. Returns the row count."""
    from kit.errors import SubmissionError

    def bad(why: str) -> SubmissionError:
        return SubmissionError(f"kernel output {path.name}: {why}", hint="nothing was submitted")

    if not path.is_file():
        raise bad("missing from the kernel output")
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            rows = list(reader)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise bad(f"does not parse as CSV: {exc}") from None
    missing = [c for c in columns if c not in header]
    if missing:
        raise bad(f"missing column(s) {', '.join(missing)} (header: {', '.join(header) or 'none'})")
    if not rows:
        raise bad("has no rows")
    key, values = columns[0], columns[1:]
    ids = [(r.get(key) or "").strip() for r in rows]
    if any(not i for i in ids):
        raise bad(f"{sum(not i for i in ids)} row(s) have an empty {key}")
    dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
    if dupes:
        raise bad(f"duplicate {key}(s): {', '.join(dupes[:3])}")
    for col in values:
        blank = [i for i, r in zip(ids, rows, strict=True) if not (r.get(col) or "").strip()]
        if blank:
            raise bad(f"{len(blank)} row(s) have a blank {col} (first {key} {blank[0]!r})")
    if expected_ids is not None and set(ids) != expected_ids:
        raise bad(f"{len(expected_ids - set(ids))} expected {key}(s) missing, {len(set(ids) - expected_ids)} extra")
    return len(rows)


class _Chain:
    """One submission attempt, one ledger row: every step records where it got to, so a re-run continues."""

    def __init__(self, client: Any, ledger: Any, row_id: int, *, competition: str, sandbox: bool,
                 folder: Path, info: dict[str, Any], timeout: float, say: Any, poll: tuple[float, float]) -> None:
        self.client, self.ledger, self.id = client, ledger, row_id
        self.competition, self.sandbox, self.folder, self.info = competition, sandbox, folder, info
        self.timeout, self.say, self.poll = timeout, say, poll

    @property
    def row(self) -> dict[str, Any]:
        return self.ledger.get_submission(self.id)

    def update(self, **fields: Any) -> None:
        self.ledger.update_submission(self.id, **fields)

    def fail(self, exc: Exception, status: str | None = None) -> Exception:
        """Record the error text (and a final status when given) on the row; returns `exc` to raise."""
        self.update(error=str(exc), **({"status": status} if status else {}))
        return exc

    # ---------------------------------------------------------------- steps

    def check_limit(self, final: bool) -> None:
        """DailyLimitError when no submission is left today (status 'refused' when nothing was pushed yet)."""
        from kit.errors import DailyLimitError

        limits = self.client.submission_limits(self.competition)
        left = getattr(limits, "num_allowed_now", None)
        if left is not None and left <= 0:
            exc = DailyLimitError(
                f"no submissions left today for {self.competition} ({getattr(limits, 'num_today', '?')} made)",
                hint="try again after the daily reset (00:00 UTC)" + ("" if final else "; then `kit submit --resume`"))
            raise self.fail(exc, "refused" if final else None)

    def wait_datasets(self, meta: dict[str, Any]) -> None:
        """Wait until every dataset source is READY: a kernel pushed earlier might mount an older version."""
        from kit.errors import KaggleError

        pins = {p["ref"]: p.get("version") for p in (self.info.get("adapter"), self.info.get("wheels")) if p}
        for ref in meta.get("dataset_sources", []):
            def check(ref: str = ref) -> tuple[str, Any]:
                if hasattr(self.client, "dataset_version"):
                    state, current = self.client.dataset_version(ref)
                    return _status(state), current
                return _status(self.client.dataset_status(ref)), None
            state, current = self._wait(check, {"READY", "FAILED", "DELETED"}, f"dataset {ref}")
            if state != "READY":
                raise self.fail(KaggleError(f"dataset {ref} is {state}", hint="push it again"), "error")
            if pins.get(ref) and current and int(current) != int(pins[ref]):
                # Kaggle mounts a source's latest version: a kernel built for another version must be rebuilt
                raise self.fail(InputError(f"dataset {ref} is at version {current}, the kernel was built for "
                                           f"version {pins[ref]}", hint="run `kit build-submission` again"), "error")

    def push(self) -> None:
        self.update(status="pushing")
        try:
            pushed = self.client.kernel_push(self.folder)
        except Exception as exc:
            raise self.fail(exc, "error") from None
        self.update(status="running", kernel_ref=pushed.ref, kernel_version=pushed.version, error=None)
        self.say(f"pushed kernel {pushed.ref} version {pushed.version}")

    def wait_kernel(self, wait: bool) -> bool:
        """Poll the pushed version; True when COMPLETE. On ERROR the log tail is shown and recorded."""
        from kit.errors import KernelFailedError

        row = self.row
        ref, version = row["kernel_ref"], row["kernel_version"]
        done = {"COMPLETE", "ERROR", "CANCEL_ACKNOWLEDGED", "CANCEL_REQUESTED"}

        def check() -> tuple[str, Any]:
            state, failure = self.client.kernel_status(ref, version)
            return _status(state), failure

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
        self.update(error=f"{exc}\n{tail}", status="kernel_error")
        raise exc

    def check_output(self) -> None:
        row = self.row
        dest = self.folder / "output" / f"v{row['kernel_version']}"
        try:
            self.client.kernel_output(row["kernel_ref"], row["kernel_version"], dest)
        except Exception as exc:  # transient: the row stays resumable
            raise self.fail(exc) from None
        name = self.info.get("submission_file") or "submission.csv"
        columns = self.info.get("submission_columns") or list(DEFAULT_COLUMNS)
        try:
            n = check_submission_file(dest / name, columns)
        except Exception as exc:
            raise self.fail(exc, "invalid_output") from None
        self.update(status="submitting", submission_file=name)
        self.say(f"kernel output {name}: {n} rows, valid")

    def submit_once(self, message: str) -> None:
        """Create the code submission unless this kernel version already has one (ledger or Kaggle)."""
        row = self.row
        ref, version = row["kernel_ref"], row["kernel_version"]
        tag = marker(ref, version)
        earlier = [r for r in self.ledger.submissions_of_kernel(ref, version, sandbox=self.sandbox)
                   if r["id"] != self.id]
        if row["submission_ref"] is None and earlier:
            self.update(submission_ref=earlier[0]["submission_ref"], status="pending")
        if self.row["submission_ref"] is None:
            for sub in self.client.submissions(self.competition):
                if tag in (getattr(sub, "description", "") or ""):
                    self.update(submission_ref=sub.ref, status="pending")
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
        self.update(submission_ref=sub_ref, status="pending", error=None)
        self.say(f"submitted kernel {ref} v{version}: submission {sub_ref}")

    def wait_score(self, wait: bool) -> bool:
        """Poll the submission until scored; True when COMPLETE."""
        from kit.errors import SubmissionError

        ref = self.row["submission_ref"]

        def check() -> tuple[str, Any]:
            sub = self.client.get_submission(ref)
            return _status(sub.status), sub

        state, sub = self._wait(check, {"COMPLETE", "ERROR"}, f"submission {ref}", once=not wait)
        if state == "ERROR":
            why = getattr(sub, "error", None) or "no error text"
            raise self.fail(SubmissionError(f"submission {ref} failed scoring: {why}"), "error")
        if state != "COMPLETE":
            return False
        self.update(status="complete", public_score=_num(sub.public_score), private_score=_num(sub.private_score),
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
                if r["status"] == "complete" and r["public_score"] is not None]
        self.ledger.add_leaderboard_snapshot(self.competition, our_best=max(best) if best else None,
                                             our_rank=ours[0] if ours else None,
                                             top_score=max(scores) if scores else None, n_teams=len(board),
                                             sandbox=self.sandbox)

    # ---------------------------------------------------------------- polling

    def _wait(self, check: Any, done: set[str], what: str, once: bool = False) -> tuple[str, Any]:
        """Poll `check` with backoff until its state is in `done`, the timeout passes, or once."""
        from kit.errors import WaitTimeoutError

        start = time.monotonic()
        interval, cap = self.poll
        last, said_at = None, 0.0
        while True:
            try:
                state, extra = check()
            except Exception as exc:  # keep the row resumable; say what broke
                raise self.fail(exc) from None
            elapsed = time.monotonic() - start
            if state != last or elapsed - said_at >= PROGRESS_EVERY:
                self.say(f"{what}: {state} ({elapsed:.0f} s)")
                last, said_at = state, elapsed
            if state in done or once:
                return state, extra
            if elapsed + interval > self.timeout:
                exc = WaitTimeoutError(f"{what} still {state} after {elapsed:.0f} s",
                                       hint="`kit submit --resume` continues waiting")
                raise self.fail(exc)
            time.sleep(interval)
            interval = min(cap, interval * 1.5)


def _num(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


# ============================================================================ entry points


def submit(config: KitConfig, kernel_dir: Path | None = None, *, message: str = "", wait: bool = True,
           allow_dirty: bool = False, resume: bool = False, sandbox: bool | None = None,
           timeout: float | None = None, client: Any = None, ledger: Any = None, say: Any = None,
           poll: tuple[float, float] | None = None) -> dict[str, Any]:
    """Push a built kernel, wait for it, validate its output, code-submit that version and poll the score.

    Every step is recorded on one ledger row; an interrupted attempt (same kernel hash, or `resume`) is
    continued instead of started again, and a kernel version is never submitted twice. Returns the row."""
    from kit.ledger import Ledger

    sandbox = sandbox_mode(sandbox)
    say = say or _say
    comp = config.competition.slug
    led = ledger or Ledger()
    try:
        row = _resumable(led, comp, sandbox, kernel_dir) if resume else None
        folder = Path(kernel_dir or (row["kernel_dir"] if row else "kernel"))
        meta, info, khash = load_kernel(folder)
        if row is not None and row["kernel_hash"] != khash:
            raise InputError(f"{folder} changed since attempt #{row['id']} was started",
                             hint="rebuild is a new attempt: run `kit submit` without --resume")
        row = row or next(iter(led.open_submissions(comp, sandbox=sandbox, kernel_hash=khash)), None)
        if row is not None:
            say(f"continuing attempt #{row['id']} ({row['status']})")
            row_id = row["id"]
        else:
            row_id = _new_attempt(led, comp, sandbox, folder, info, khash, message, allow_dirty)
        try:
            if client is None:
                from kit.kaggle.client import kaggle_client

                client = kaggle_client(config, sandbox=sandbox)
            chain = _Chain(client, led, row_id, competition=comp, sandbox=sandbox, folder=folder, info=info,
                           timeout=timeout or float(config.kaggle.kernel_timeout_seconds + 1800), say=say,
                           poll=poll or (POLL_SANDBOX if sandbox else POLL_KAGGLE))
            _run(chain, meta, wait)
        except KeyboardInterrupt:
            led.update_submission(row_id, error="interrupted: `kit submit --resume` continues this attempt")
            raise
        except Exception as exc:  # every failure leaves its text on the row (steps record most themselves)
            if not (led.get_submission(row_id)["error"] or "").startswith(str(exc)):
                led.update_submission(row_id, error=str(exc))
            raise
        return led.get_submission(row_id)
    finally:
        if ledger is None:
            led.close()


def resume(config: KitConfig, kernel_dir: Path | None = None, **kwargs: Any) -> dict[str, Any]:
    """Continue the newest interrupted attempt (of `kernel_dir` when given)."""
    return submit(config, kernel_dir, resume=True, **kwargs)


def _resumable(led: Any, comp: str, sandbox: bool, kernel_dir: Path | None) -> dict[str, Any]:
    rows = led.open_submissions(comp, sandbox=sandbox)
    if kernel_dir is not None:
        rows = [r for r in rows if r["kernel_dir"] == str(Path(kernel_dir).resolve())]
    if not rows:
        raise InputError(f"no interrupted submission to resume for {comp}" + (" in the sandbox" if sandbox else ""),
                         hint="`kit history` lists every attempt")
    return rows[0]


def _new_attempt(led: Any, comp: str, sandbox: bool, folder: Path, info: dict[str, Any], khash: str,
                 message: str, allow_dirty: bool) -> int:
    """A new ledger row with the kernel's provenance; a dirty tree is refused (and recorded) unless allowed."""
    sha, dirty = git_state(exclude=folder)
    adapter, wheels = info.get("adapter") or {}, info.get("wheels") or {}
    default = f"kit: template {info.get('template', '?')}" + (
        f", adapter v{adapter['version']}" if adapter.get("version") else "")
    row_id = led.add_submission(
        comp, "starting", sandbox=sandbox, message=message or default, kernel_hash=khash,
        kernel_dir=str(folder.resolve()), kernel_ref=info.get("kernel_ref"), template=info.get("template"),
        parameters=info.get("parameters") or {}, adapter_ref=adapter.get("ref"),
        adapter_version=adapter.get("version"), wheels_ref=wheels.get("ref"), wheels_version=wheels.get("version"),
        base_model_source=info.get("base_model"), git_sha=sha, git_dirty=dirty, kit_version=__version__,
        local_score=info.get("local_score"), origin="kit")
    if dirty and not allow_dirty:
        exc = DirtyTreeError("the git tree has uncommitted changes",
                             hint="commit them so the ledger's git SHA means something, or pass --allow-dirty")
        led.update_submission(row_id, status="refused", error=str(exc))
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
    if chain.row["status"] == "running":
        if not chain.wait_kernel(wait):
            return
        chain.check_output()
    if chain.row["status"] == "submitting":
        chain.submit_once(chain.row["message"] or "")
    if chain.row["status"] == "pending" and chain.wait_score(wait):
        chain.snapshot()
