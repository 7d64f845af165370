"""The kernel side of an inference-server competition: a `predict` that never loses the run.

Kaggle's gateway calls the notebook's `predict` once per batch of hidden rows (AIMO: one problem per call, in
shuffled order), on a gRPC worker thread, under a per-call deadline, and writes the submission only after the last
call: one exception, one bare scalar or one late answer discards every earlier answer. `serve_predict` wraps a
competitor's `solve(row, deadline)` so that:

- the answer always has the schema the gateway writes (a frame with the row-id and target columns, one row per
  row id, never a bare scalar), and a fallback replaces an exception, a missing answer or a late one;
- each call gets an allowance from the time left: the whole-notebook budget less a margin, shared over the calls
  still expected, capped by the per-call deadline (the first call exempt where the gateway exempts it). Time an
  easy row leaves unused is banked for the rows after it; nothing assumes the order of the rows;
- the deadline is cooperative (`Deadline.expired()`), since signals only reach the main thread; a solver that
  ignores it is abandoned at the hard limit (its thread is left to finish, and its answer discarded);
- the model loads lazily on the first call (`Lazy`), so `serve()` starts within the gateway's startup window,
  and the time before the first call is reported as the startup;
- every call is recorded in the run report (`kit.kernel.report`), written after each call, so a killed kernel
  still leaves its timings and run-local can project whether the hidden set fits.

Stdlib only at import; the frame library (polars, else pandas) is imported when the first answer is built.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from kit.files import write_json
from kit.kernel.report import REPORT_FILE, CallTiming

T = TypeVar("T")
_SOLVER_EXCEPTION = "solver raised"


@dataclass(frozen=True)
class CallBudget:
    """The competition's clock as a served kernel sees it (AIMO3: 5 h on one H100, 50 problems, no real per-call
    deadline; AIMO2: 30 min per problem, the first exempt)."""

    budget_seconds: float  # the whole notebook's limit, counted from the kernel's start
    expected_rows: int  # the hidden set's size (AIMO3: 50 problems on each leaderboard)
    margin_seconds: float = 600.0  # kept free at the end: model load jitter, the gateway's own work
    per_call_seconds: float | None = None  # the gateway's deadline for one call (None: none)
    first_call_exempt: bool = True  # 0.3/0.9 gateways apply the deadline from the second call on
    call_safety_seconds: float = 5.0  # answer this long before the per-call deadline (serialization, transit)
    min_call_seconds: float = 0.0  # an allowance below this is answered with the fallback at once

    def __post_init__(self) -> None:
        if self.budget_seconds <= 0 or self.expected_rows < 1 or self.margin_seconds < 0:
            raise ValueError("budget_seconds > 0, expected_rows >= 1 and margin_seconds >= 0 are required")
        if self.per_call_seconds is not None and self.per_call_seconds <= self.call_safety_seconds:
            raise ValueError("per_call_seconds must exceed call_safety_seconds")

    def share(self, elapsed: float, rows_done: int) -> float:
        """Seconds the next row may spend: an equal share of the usable time left over the rows still expected.
        Later rows inherit what earlier ones left unused (time banking); the order of the rows does not matter."""
        left = self.budget_seconds - self.margin_seconds - elapsed
        return max(0.0, left / max(1, self.expected_rows - rows_done))

    def call_limit(self, calls_done: int) -> float | None:
        """Seconds the call after `calls_done` calls may take before the gateway gives up on it (None: no limit
        within the budget), less the safety margin."""
        if self.per_call_seconds is None or (self.first_call_exempt and calls_done == 0):
            return None
        return self.per_call_seconds - self.call_safety_seconds


class Deadline:
    """What a solver checks between steps: seconds left, and whether to stop now."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.seconds = max(0.0, float(seconds))
        self.ends_at = clock() + self.seconds
        self._cancelled = threading.Event()

    def left(self) -> float:
        """Seconds until the allowance is spent (0 once it is, or once the call was abandoned)."""
        return 0.0 if self._cancelled.is_set() else max(0.0, self.ends_at - self.clock())

    def expired(self) -> bool:
        """True once the allowance is spent or the call was abandoned: stop and return the best answer so far."""
        return self.left() <= 0.0

    def cancel(self) -> None:
        """Abandon the call (the serving wrapper has answered without the solver)."""
        self._cancelled.set()


class Lazy(Generic[T]):
    """A value built on first use (the model), so `serve()` is reached within the gateway's startup window."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        self._lock = threading.Lock()
        self.load_seconds: float | None = None

    def get(self) -> T:
        """The value, built once (thread-safe: the gateway's worker thread is the usual first caller)."""
        with self._lock:
            if self._value is None:
                started = time.monotonic()
                self._value = self._build()
                self.load_seconds = time.monotonic() - started
            return self._value


@dataclass
class ServingLog:
    """What the served kernel did so far, written as the run report after every call."""

    path: Path
    budget: CallBudget
    started_at: float  # the kernel's start (time.time()), as the guard's first cell recorded it
    first_call_at: float | None = None
    calls_made: int = 0
    calls: list[CallTiming] = field(default_factory=list)  # one per row answered
    failures: list[str] = field(default_factory=list)  # why each fallback was answered (one line each)
    timeouts: int = 0  # rows answered with the fallback because their time ran out

    def record(self, call: CallTiming, why: str = "", timed_out: bool = False) -> None:
        """Add one answered row and rewrite the report atomically."""
        self.calls.append(call)
        self.timeouts += timed_out
        if why:
            self.failures.append(why)
        self.write()

    def report(self) -> dict[str, Any]:
        """The run report (kit.kernel.report.RunReport's keys) with the per-call timings."""
        rows = len(self.calls)
        seconds = sum(c.seconds for c in self.calls)
        setup = None if self.first_call_at is None else round(self.first_call_at - self.started_at, 3)
        per_row = seconds / rows if rows else None
        return {
            "rows": rows, "fallback_rows": sum(c.fallback for c in self.calls),
            "seconds_per_row": None if per_row is None else round(per_row, 3),
            "rows_per_second": round(rows / seconds, 3) if seconds > 0 else None,
            "setup_seconds": setup, "projected_rows": self.budget.expected_rows,
            "projected_seconds": None if per_row is None else round((setup or 0.0)
                                                                    + per_row * self.budget.expected_rows, 1),
            "budget_seconds": self.budget.budget_seconds, "margin_seconds": self.budget.margin_seconds,
            "deadline_hit": self.timeouts > 0, "calls_made": self.calls_made,
            "calls": [asdict(c) for c in self.calls], "failures": self.failures[-20:],
        }

    def write(self) -> Path:
        """The report as sorted JSON, atomically (a kernel killed mid-write keeps the previous one)."""
        return write_json(self.path, self.report())


def serve_predict(solve: Callable[[dict[str, Any], Deadline], Any], *, row_id_column: str, target_column: str,
                  fallback: Any, budget: CallBudget, started_at: float,
                  report_path: str | Path = REPORT_FILE, clock: Callable[[], float] = time.time) -> Callable:
    """The `predict` function to hand to the competition's inference server.

    `solve(row, deadline)` gets one row as a dict (column -> value) and returns its answer; it should check
    `deadline.expired()` between steps and return its best answer so far. A batch of several rows is solved row by
    row, each under its own share of the call's allowance. The returned function is named `predict`, as the
    gateway dispatches by name."""
    log = ServingLog(Path(report_path), budget, started_at)

    def predict(*columns: Any) -> Any:
        if log.first_call_at is None:
            log.first_call_at = clock()
        limit = budget.call_limit(log.calls_made)
        log.calls_made += 1
        call_began = time.monotonic()
        rows = _rows(columns)
        answers = []
        for i, row in enumerate(rows):
            allowance = budget.share(clock() - started_at, len(log.calls))
            if limit is not None:  # the gateway's deadline is per call: the rows left in it share what remains
                allowance = min(allowance, (limit - (time.monotonic() - call_began)) / (len(rows) - i))
            began = time.monotonic()
            answer, why, timed_out = _answer(solve, row, allowance, budget.min_call_seconds)
            answers.append(fallback if answer is None else answer)
            log.record(CallTiming((str(row.get(row_id_column)),), round(time.monotonic() - began, 3),
                                  round(allowance, 3), answer is None), why, timed_out)
        return _frame({row_id_column: [r.get(row_id_column) for r in rows], target_column: answers}, columns)

    predict.log = log  # type: ignore[attr-defined]  # the run-report writer, for a notebook's last cell
    return predict


def _answer(solve: Callable[[dict[str, Any], Deadline], Any], row: dict[str, Any], allowance: float,
            min_seconds: float) -> tuple[Any, str, bool]:
    """(answer or None, why it is None, whether time ran out) for one row, never raising. The solver runs on its
    own thread so that one ignoring its deadline is abandoned at the allowance (plus a second's grace)."""
    if allowance <= min_seconds:
        return None, "no time left for this row", True
    deadline = Deadline(allowance)
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["answer"] = solve(row, deadline)
        except Exception:  # the solver's failure becomes the fallback, never the gateway's
            result["error"] = traceback.format_exc(limit=3).strip().splitlines()[-1]

    worker = threading.Thread(target=run, name="kit-solve", daemon=True)
    worker.start()
    worker.join(allowance + 1.0)  # a second of grace for a solver returning its best answer at the deadline
    if worker.is_alive():
        deadline.cancel()
        return None, f"solver still running after {allowance:.1f} s: abandoned", True
    if "error" in result:
        return None, f"{_SOLVER_EXCEPTION}: {result['error']}", False
    if result.get("answer") is None:
        return None, "solver gave no answer", False
    return result["answer"], "", False


def _rows(columns: Sequence[Any]) -> list[dict[str, Any]]:
    """The gateway's positional columns (polars or pandas Series, or a frame) as a list of row dicts."""
    if len(columns) == 1 and hasattr(columns[0], "columns"):  # a whole frame in one argument
        frame = columns[0]
        names = [str(c) for c in frame.columns]
        series = [frame[c] for c in frame.columns]
    else:
        names = [str(getattr(c, "name", f"column_{i}")) for i, c in enumerate(columns)]
        series = list(columns)
    values = [list(s.to_list() if hasattr(s, "to_list") else s) for s in series]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def _frame(data: dict[str, list[Any]], like: Sequence[Any]) -> Any:
    """A frame of the library the gateway sent (polars for Kaggle's gateways), else polars, else pandas."""
    sent = type(like[0]).__module__.split(".")[0] if like else ""
    if sent != "pandas":
        try:
            import polars as pl

            return pl.DataFrame(data)
        except ImportError:
            pass
    import pandas as pd

    return pd.DataFrame(data)
