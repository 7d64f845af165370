"""Time-budget guard and fallback-first submission writes (generic: no prompt or model logic here).

A code-competition kernel that overruns its time limit scores nothing, and one killed mid-write leaves a
broken file. So a kernel using this module:

1. starts a `TimeGuard` at its first cell (budget minus a margin for runtime obfuscation and model load);
2. opens a `SubmissionWriter`, which writes a COMPLETE submission of fallback values before any model work;
3. iterates `guard.schedule(passes, items, chunk_size)`: work is handed out breadth-first (pass 1 over every
   item, then pass 2 ...), each chunk's duration is measured, and no chunk is started when its projected
   duration would pass the deadline;
4. writes each chunk's results with `writer.update(...)`: every write is a full temp file + rename, so a
   SIGKILL at any moment leaves either the previous or the new complete file, never a partial one;
5. saves `guard.report(...)` as JSON (`write_report`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from kit.files import write_json

T = TypeVar("T")

DEFAULT_BUDGET_SECONDS = 32400  # 9 h: the competition's notebook limit
DEFAULT_MARGIN_SECONDS = 1800  # runtime obfuscation (up to 15 min) plus model load, with slack


class TimeGuard:
    """Wall-clock budget with a measured rate, a projection and breadth-first chunk scheduling."""

    def __init__(
        self,
        budget_seconds: float = DEFAULT_BUDGET_SECONDS,
        margin_seconds: float = DEFAULT_MARGIN_SECONDS,
        started_at: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if budget_seconds <= 0 or margin_seconds < 0:
            raise ValueError("budget_seconds must be > 0 and margin_seconds >= 0")
        self.clock = clock
        self.started_at = clock() if started_at is None else float(started_at)
        self.budget_seconds = float(budget_seconds)
        self.margin_seconds = float(margin_seconds)
        self.deadline = self.started_at + self.budget_seconds - self.margin_seconds
        self.work_seconds = 0.0  # time spent inside scheduled chunks (probe included)
        self.work_items = 0  # item-passes completed (probe included)
        self.probe_items = 0  # the first, small chunk: it may run at a batch-of-one rate, so it only
        self.probe_seconds = 0.0  # sets the rate until regular chunks have been measured
        self.first_chunk_at: float | None = None
        self.done_per_pass: list[int] = []
        self.deadline_hit = False
        self.skipped_items = 0  # item-passes never started because of the deadline
        self.phases: dict[str, TimeGuard] = {}  # later phases (e.g. re-scoring): same deadline, own rate

    def phase(self, name: str) -> TimeGuard:
        """A guard for a later phase of different work per item: the same clock and deadline, its own rate,
        schedule and counts (a phase's items cost differently, so they must not skew this guard's rate).
        Its figures appear under `phases` in this guard's report and in the projection."""
        child = TimeGuard(self.budget_seconds, self.margin_seconds, started_at=self.started_at, clock=self.clock)
        self.phases[name] = child
        return child

    # ------------------------------------------------------------------ measurements
    def elapsed(self) -> float:
        """Seconds since the guard started."""
        return self.clock() - self.started_at

    def seconds_left(self) -> float:
        """Seconds until the deadline (negative once it has passed)."""
        return self.deadline - self.clock()

    def seconds_per_item(self) -> float | None:
        """Measured seconds per item-pass (regular chunks; the probe until there are some), None before any."""
        items, seconds = self.work_items - self.probe_items, self.work_seconds - self.probe_seconds
        if items > 0:
            return seconds / items
        return self.probe_seconds / self.probe_items if self.probe_items else None

    def record(self, items: int, seconds: float, probe: bool = False) -> None:
        """Add `items` item-passes that took `seconds` to the rate."""
        seconds = max(0.0, seconds)
        self.work_items += items
        self.work_seconds += seconds
        if probe:
            self.probe_items += items
            self.probe_seconds += seconds

    def can_start(self, items: int) -> bool:
        """Whether a chunk of `items` is projected to end before the deadline (always start the first one
        while time is left: there is no rate yet)."""
        left = self.seconds_left()
        rate = self.seconds_per_item()
        needed = 0.0 if rate is None else rate * items
        return left > 0 and needed <= left

    # ------------------------------------------------------------------ scheduling
    def schedule(self, passes: int, items: Sequence[T], chunk_size: int,
                 probe_items: int = 1) -> Iterator[tuple[int, list[T]]]:
        """Yield (pass index, chunk) breadth-first; the time between yields is measured as the chunk's work.

        The very first chunk is a probe of `probe_items` items: with no rate measured yet nothing can be
        projected, so the unprojected step is kept small. Stops (for good) at the first chunk whose projection
        passes the deadline; `deadline_hit` and `skipped_items` then say how much work was left undone.
        """
        if chunk_size < 1 or probe_items < 1:
            raise ValueError("chunk_size and probe_items must be >= 1")
        self.done_per_pass = [0] * passes
        items = list(items)
        total = passes * len(items)
        for p in range(passes):
            start = 0
            while start < len(items):
                probe = not self.work_items
                size = min(chunk_size, probe_items) if probe else chunk_size
                chunk = items[start:start + size]
                start += len(chunk)
                if not self.can_start(len(chunk)):
                    self.deadline_hit = True
                    self.skipped_items = total - sum(self.done_per_pass)
                    return
                if self.first_chunk_at is None:
                    self.first_chunk_at = self.clock()
                began = self.clock()
                yield p, chunk
                self.record(len(chunk), self.clock() - began, probe=probe)
                self.done_per_pass[p] += len(chunk)

    def projected_seconds(self, rows: int, passes: int | None = None) -> float | None:
        """Projected wall time of a whole run over `rows` rows: setup so far + rows x passes x rate."""
        rate = self.seconds_per_item()
        passes = len(self.done_per_pass) if passes is None else passes
        setup = self.setup_seconds()
        if passes == 0:
            return setup
        if rate is None:
            return None
        later = sum(p.seconds_per_item() * len(p.done_per_pass) * rows for p in self.phases.values()
                    if p.seconds_per_item() is not None)
        return setup + rows * passes * rate + later

    def setup_seconds(self) -> float:
        """Seconds from the start to the first chunk (imports, model load); all elapsed time if none ran."""
        end = self.first_chunk_at if self.first_chunk_at is not None else self.clock()
        return end - self.started_at

    def report(self, rows: int, fallback_rows: int, *, projected_rows: int, **extra: Any) -> dict[str, Any]:
        """The timing report: rows, rows per pass, fallback rows, rates, budget, deadline hit, and the projected
        time of a run over `projected_rows` rows (the competition's hidden test set, which the pack knows)."""
        rate = self.seconds_per_item()
        passes = len(self.done_per_pass)
        projected = self.projected_seconds(projected_rows)
        usable = self.budget_seconds - self.margin_seconds
        data: dict[str, Any] = {
            "rows": rows,
            "passes": passes,
            "rows_per_pass": list(self.done_per_pass),
            "fallback_rows": fallback_rows,
            "unreached_rows": rows - self.done_per_pass[0] if passes else 0,
            "skipped_item_passes": self.skipped_items,
            "elapsed_seconds": round(self.elapsed(), 3),
            "setup_seconds": round(self.setup_seconds(), 3),
            "work_seconds": round(self.work_seconds, 3),
            "seconds_per_item_pass": None if rate is None else round(rate, 6),
            "seconds_per_row": None if rate is None else round(rate * passes, 6),
            "rows_per_second": round(self.work_items / self.work_seconds, 3) if self.work_seconds > 0 else None,
            "projected_rows": projected_rows,
            "projected_seconds": None if projected is None else round(projected, 1),
            "budget_seconds": self.budget_seconds,
            "margin_seconds": self.margin_seconds,
            "usable_seconds": usable,
            "fits_budget": None if projected is None else projected <= usable,
            "deadline_hit": self.deadline_hit or any(p.deadline_hit for p in self.phases.values()),
        }
        if self.phases:
            data["phases"] = {name: p.phase_report() for name, p in self.phases.items()}
        data.update(extra)
        return data

    def phase_report(self) -> dict[str, Any]:
        """This guard's own work as a phase: items done per pass, seconds, rate, deadline."""
        rate = self.seconds_per_item()
        return {"items_per_pass": list(self.done_per_pass), "work_seconds": round(self.work_seconds, 3),
                "seconds_per_item": None if rate is None else round(rate, 6), "deadline_hit": self.deadline_hit,
                "skipped_items": self.skipped_items}


class SubmissionWriter:
    """A CSV of `id -> value` that is complete from the first write: fallback values first, then updates.
    The columns are the competition's (`id_column`, `value_column`): the pack names them.

    Every write rewrites the whole file to a temp file in the same folder and renames it over the target,
    so readers (and a kernel killed at any moment) only ever see a complete file.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        ids: Sequence[str],
        fallback: Mapping[str, str] | Sequence[str],
        *,
        id_column: str = "id",
        value_column: str,
    ) -> None:
        self.path = Path(path)
        self.ids = [str(i) for i in ids]
        if len(set(self.ids)) != len(self.ids):
            raise ValueError("submission ids must be unique")
        values = fallback if isinstance(fallback, Mapping) else dict(zip(self.ids, fallback, strict=True))
        self.fallback = {i: str(values[i]) for i in self.ids}
        if any(not v.strip() for v in self.fallback.values()):
            raise ValueError("fallback values must be non-empty (the host rejects empty predictions)")
        self.values = dict(self.fallback)
        self.replaced: set[str] = set()
        self.columns = (id_column, value_column)
        self.writes = 0
        self.write()

    def update(self, values: Mapping[str, str | None]) -> int:
        """Replace the given ids' values (empty or None values keep the fallback) and rewrite; returns count."""
        changed = 0
        for key, value in values.items():
            key = str(key)
            if key not in self.values:
                raise KeyError(f"unknown submission id {key!r}")
            if value is None or not str(value).strip():
                continue
            self.values[key] = str(value)
            self.replaced.add(key)
            changed += 1
        if changed:
            self.write()
        return changed

    @property
    def fallback_rows(self) -> int:
        """Rows still holding their fallback value."""
        return len(self.ids) - len(self.replaced)

    @property
    def fallback_ids(self) -> list[str]:
        """The ids still holding their fallback value, in submission order (a report names them so a score can be
        told apart from the fallback string's)."""
        return [i for i in self.ids if i not in self.replaced]

    def write(self) -> Path:
        """Write the whole file atomically (kit.files: temp file in the same folder, then a rename)."""
        from kit.tables import write_rows

        key, value = self.columns
        write_rows(self.path, ({key: i, value: self.values[i]} for i in self.ids), self.columns)
        self.writes += 1
        return self.path


def duration(seconds: float) -> str:
    """Seconds for people: '150 s' below ten minutes, '45 min' below two hours, else hours ('8.50 h')."""
    if seconds < 600:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.2f} h"


# The two budgets are told apart in words because a rehearsal's short budget on a small CPU says nothing about
# Kaggle's: the projection is the only figure that speaks to Kaggle, and only the caller knows Kaggle's budget.
def kaggle_budget_line(report: Mapping[str, Any], usable_seconds: float) -> str | None:
    """'Kaggle budget: ...': the report's projection for the hidden set (at the measured rate of the machine that
    ran it) against `usable_seconds` of Kaggle's budget (budget less margin); None without a projection."""
    projected = report.get("projected_seconds")
    if projected is None:
        return None
    verdict = "within" if projected <= usable_seconds else "over"
    return (f"Kaggle budget: projected {report.get('projected_rows')} rows at this machine's rate: "
            f"{duration(projected)}, {verdict} the {duration(usable_seconds)} usable on Kaggle")


def run_budget_line(report: Mapping[str, Any], label: str = "this run's budget") -> str:
    """'<label>: ...': the budget the run itself had (not a verdict on Kaggle's), and what its guard left undone."""
    rows, fallback = int(report.get("rows", 0)), int(report.get("fallback_rows", 0))
    text = (f"{label}: {duration(float(report.get('budget_seconds', 0)))} "
            f"({duration(float(report.get('usable_seconds', 0)))} usable); {rows - fallback} of {rows} rows "
            f"predicted, {fallback} on the fallback")
    return text + ("; the time guard stopped at its deadline" if report.get("deadline_hit") else "")


def write_report(path: str | os.PathLike, report: Mapping[str, Any]) -> Path:
    """Write the timing report as sorted JSON, atomically."""
    return write_json(path, dict(report))
