"""The "inference_server" mechanism: the notebook serves `predict`, Kaggle's gateway calls it and writes the file.

Save-version run (no rerun flag): the notebook runs the gateway in its own process (`run_local_gateway`) on the
public test file and leaves `submission.parquet` in /kaggle/working; `check_output` checks that file before a daily
submission is spent. Scoring re-run: the notebook runs top to bottom with KAGGLE_IS_COMPETITION_RERUN set and
blocks in `serve()`; the gateway runs as a separate process in a container of its own, dials the notebook as
`inference_server`, sends the hidden rows, and reports through `result.json`. Its error type becomes the category
shown on the submission. Which categories count against the daily allowance follows the gateway's own docstring
("unhandled errors are treated as caused by Kaggle and do not count"); the words of each category are inferred
from Kaggle's published list, since the mapping itself is not public.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kit.kernel.report import CallTiming, RunReport
from kit.mechanisms.base import TIMEOUT, Mechanism, Rerun, ScoringFailure
from kit.mechanisms.file import check_submission_file

RESULT_FILE = "result.json"
CALLS_FILE = "gateway_calls.jsonl"  # the kit-written gateway's call log (sent, answered), in its working folder
OUTCOME_FILE = "outcome.json"  # what the runner said of the re-run (kernel start, exits), beside the gateway's files
GATEWAY_STARTUP_SECONDS = 900  # the gateway's wait for the server, from its first call (STARTUP_LIMIT_SECONDS)

# ErrorType -> (category shown on the submission, whether the attempt counts against the daily allowance).
CATEGORIES: dict[int, tuple[str, bool]] = {
    0: ("Submission Scoring Error", False),  # UNSPECIFIED: Kaggle's own fault
    1: ("Inference Server Never Started", True),  # SERVER_NEVER_STARTED
    2: ("Inference Server Connection Failed", True),  # SERVER_CONNECTION_FAILED
    3: ("Inference Server Raised an Exception", True),  # SERVER_RAISED_EXCEPTION
    4: ("Inference Server Missing Endpoint", True),  # SERVER_MISSING_ENDPOINT: no function named predict
    5: ("Submission Scoring Error", False),  # GATEWAY_RAISED_EXCEPTION: unclassified, so not the user's
    6: ("Invalid Submission", True),  # INVALID_SUBMISSION
    7: ("Timeout", True),  # GRPC_DEADLINE_EXCEEDED: a call past the competition's per-call deadline
}


class InferenceServerMechanism(Mechanism):
    """The notebook serves `predict`; the competition's gateway writes `submission.parquet`."""

    name = "inference_server"
    rehearses_rerun = True  # a served notebook blocks in serve() on the re-run: run-local rehearses that run too

    def check_output(self, spec: Any, output_dir: Path, expected_ids: set[str] | None = None) -> int:
        """The save-version run's file: what the notebook's local gateway wrote into /kaggle/working."""
        return check_submission_file(output_dir / spec.file_name, list(spec.columns), expected_ids)

    def score_rerun(self, rerun: Rerun) -> Path:
        """The kernel blocked in serve(), the gateway beside it; its result.json decides."""
        if rerun.run_beside is None or rerun.competition_dir is None:
            raise ScoringFailure("Submission Scoring Error", "this sandbox cannot run a gateway", counts=False)
        from kit.kaggle.emulator.runner import GatewayRun

        options = dict(rerun.options)
        module = options.get("gateway_module")
        if not module:
            raise ScoringFailure("Submission Scoring Error", "the competition names no gateway module", counts=False)
        argv = ["-m", str(module)]
        if options.get("startup_limit_seconds"):  # a sandbox setting: the kit's gateway takes it, Kaggle's ignore it
            argv += ["--startup-limit", str(options["startup_limit_seconds"])]
        comp = rerun.competition
        # The gateway's own view of the data: at the legacy path its default data path names, and the 2025 one.
        mounts = {comp: rerun.competition_dir, f"competitions/{comp}": rerun.competition_dir}
        folder = gateway_folder(rerun)
        outcome = rerun.run_beside(GatewayRun(tuple(argv), mounts, f"/kaggle/input/{comp}", folder))
        (folder / OUTCOME_FILE).write_text(json.dumps(outcome, default=str), encoding="utf-8")
        if outcome["timed_out"]:
            raise ScoringFailure(TIMEOUT)
        return _scored_file(folder, rerun.file_name, outcome)

    def prepare_competition(self, folder: Path, options: Mapping[str, Any]) -> None:
        """A folder without a `kaggle_evaluation/` package gets the kit's, written from the competition's gateway
        spec; a user's download keeps the competition's own package, which is what Kaggle runs."""
        spec = options.get("gateway_spec")
        if spec is not None and not (Path(folder) / "kaggle_evaluation").is_dir():
            from kit.mechanisms.inference_server.package import write_package

            write_package(Path(folder), spec)

    def rerun_report(self, rerun: Rerun, hidden_rows: int) -> RunReport | None:
        """The re-run's timings as the gateway saw them: the time from the kernel's start to the first answer (what
        the gateway's startup window measures), each call's seconds, and the projection for `hidden_rows` rows;
        None when the gateway kept no call log (a competition's own package rather than the kit's)."""
        folder = gateway_folder(rerun)
        calls_path, outcome_path = folder / CALLS_FILE, folder / OUTCOME_FILE
        if not (calls_path.is_file() and outcome_path.is_file()):
            return None
        started = float(json.loads(outcome_path.read_text(encoding="utf-8"))["kernel_started"])
        calls = [json.loads(line) for line in calls_path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if not calls:
            return RunReport(rows=0)
        seconds = [c["answered"] - c["sent"] for c in calls]
        first_answer = calls[0]["answered"] - started
        rest = seconds[1:] or seconds
        per_call = sum(rest) / len(rest)
        return RunReport(rows=len(calls), setup_seconds=round(first_answer, 3), seconds_per_row=round(per_call, 4),
                         rows_per_second=round(1 / per_call, 3) if per_call > 0 else None,
                         projected_rows=hidden_rows,
                         projected_seconds=round(first_answer + per_call * max(0, hidden_rows - 1), 1),
                         calls=tuple(CallTiming((), round(s, 4)) for s in seconds))


def gateway_folder(rerun: Rerun) -> Path:
    """Where a re-run's gateway works: its result.json, submission, call log and the runner's outcome."""
    return rerun.run_dir.parent / f"{rerun.run_dir.name}-gateway"


def _scored_file(folder: Path, file_name: str, outcome: dict[str, Any]) -> Path:
    """The gateway's submission, or the ScoringFailure its result.json (or its absence) stands for."""
    result_path = folder / RESULT_FILE
    if not result_path.is_file():
        log = folder.parent / "gateway.log"
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.is_file() else []
        raise ScoringFailure("Submission Scoring Error", f"the gateway wrote no {RESULT_FILE} (exit "
                             f"{outcome.get('gateway_exit')}){': ' + tail[0] if tail else ''}", counts=False)
    result = json.loads(result_path.read_text(encoding="utf-8"))
    if not result.get("Succeeded"):
        category, counts = CATEGORIES.get(int(result.get("ErrorType", 0)), CATEGORIES[0])
        raise ScoringFailure(category, counts=counts)  # details stay in result.json, as on Kaggle
    out = folder / file_name
    if not out.is_file():
        raise ScoringFailure("Submission CSV Not Found", f"the gateway wrote no {file_name}")
    return out
