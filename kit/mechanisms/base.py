"""A submission mechanism: how a competition turns a kernel run into the file its scorer reads.

Kaggle's code competitions do it two ways. "file": the notebook writes the submission into /kaggle/working.
"inference_server": the notebook serves `predict` and Kaggle's gateway, a separate process, calls it row batch by
row batch and writes the submission itself. Everything that differs between the two lives behind this class, so
build-submission, run-local, submit and the sandbox emulator stay the same for both:
- `check_output`: is the kernel's output scorable (before a daily submission is spent on it);
- `score_rerun`: the sandbox's scoring re-run, as Kaggle does it, ending with the file to score or a
  `ScoringFailure` carrying the category Kaggle shows;
- `read_report`: the run report (`kit.kernel.report`), the same schema for every mechanism.

Mechanisms are found by name through the `kit.mechanisms` entry-point group, like packs (`kit.mechanisms.registry`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from kit.kernel.report import RunReport, read_report

TIMEOUT = "Notebook Timeout"  # Kaggle's words for a kernel stopped at its session limit


class ScoringFailure(Exception):
    """A scoring re-run that ended without a scorable file: `category` is what Kaggle shows on the submission."""

    def __init__(self, category: str, details: str = "", counts: bool = True) -> None:
        super().__init__(f"{category}: {details}" if details else category)
        self.category = category
        self.details = details
        self.counts = counts  # whether Kaggle counts the attempt against the daily allowance


@dataclass(frozen=True)
class Rerun:
    """One scoring re-run the emulator asks a mechanism to carry out.

    `run_kernel()` runs the submitted kernel version top to bottom on the hidden data with the rerun flag set and
    returns {status, failureMessage} as Kaggle reports a kernel run; `working_dir` is the kernel's
    /kaggle/working on the host; `run_dir` is this re-run's own folder (logs, a gateway's files)."""

    run_kernel: Callable[[], dict[str, Any]]
    working_dir: Path
    run_dir: Path
    file_name: str
    options: Mapping[str, Any] = field(default_factory=dict)  # mechanism settings the pack's emulator view gives
    # A served kernel's re-run: `run_beside(gateway)` runs the kernel with `gateway` (a runner.GatewayRun) beside
    # it and returns {kernel, gateway_exit, timed_out}; `competition_dir` is the hidden data as mounted.
    run_beside: Callable[[Any], dict[str, Any]] | None = None
    competition: str = ""
    competition_dir: Path | None = None


class Mechanism(ABC):
    """How a kernel's predictions reach the scorer."""

    name: ClassVar[str]
    # Whether `kit run-local` also rehearses the scoring re-run: a kernel that behaves differently there (a served
    # notebook blocks in serve() while a gateway calls it) must be seen doing so before a submission is spent.
    rehearses_rerun: ClassVar[bool] = False

    @abstractmethod
    def check_output(self, spec: Any, output_dir: Path, expected_ids: set[str] | None = None) -> int:
        """SubmissionError unless the kernel's output in `output_dir` can be scored; returns the row count.
        `spec` is the pack's `kit.pack.SubmissionSpec`."""

    @abstractmethod
    def score_rerun(self, rerun: Rerun) -> Path:
        """Carry out a scoring re-run; the submission file to score, or ScoringFailure with Kaggle's category."""

    def prepare_competition(self, folder: Path, options: Mapping[str, Any]) -> None:
        """Complete a competition folder a kernel will see (the local mini-competition or the user's download):
        nothing for a file competition."""
        return None

    def rerun_report(self, rerun: Rerun, hidden_rows: int) -> RunReport | None:
        """The rehearsed re-run's timings, where the mechanism can tell them (None: nothing beyond the kernel's own
        report)."""
        return None

    def read_report(self, spec: Any, output_dir: Path) -> RunReport:
        """The kernel's run report; a kernel that wrote none gets one counted from its output."""
        report = read_report(output_dir)
        if report is None:
            report = RunReport(rows=self.check_output(spec, output_dir))
        return report


def kernel_outcome(result: Mapping[str, Any]) -> None:
    """ScoringFailure unless the kernel run completed (the categories Kaggle shows for a failed kernel)."""
    message = str(result.get("failureMessage") or "")
    if message == TIMEOUT:
        raise ScoringFailure(TIMEOUT)
    if result.get("status") != "COMPLETE":
        raise ScoringFailure("Notebook Threw Exception", message)
