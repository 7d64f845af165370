"""The run report a kernel leaves beside its output (`timing_report.json`): one schema for every mechanism.

The kernel writes it (the time guard's `report()` gives the figures); run-local, the demo and the emulator read
it through `RunReport`. Defined here, in the kernel room, because the kernel is its first writer and runs with
the stdlib only. A kernel without the kit's guard writes none, and readers then count rows from the output.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit.errors import InputError

REPORT_FILE = "timing_report.json"


@dataclass(frozen=True)
class CallTiming:
    """One call a served kernel answered (inference-server mechanism): which row ids, how long, how it ended."""

    row_ids: tuple[str, ...]
    seconds: float
    budget_seconds: float | None = None  # what the kernel's guard allowed this call
    fallback: bool = False  # the answer is the fallback (time ran out or the solver failed)


@dataclass(frozen=True)
class RunReport:
    """What a kernel run did and whether its pace fits the competition's budget.

    Keys a kernel does not know stay None; `extra` keeps whatever else it wrote (a pack's own figures)."""

    rows: int
    fallback_rows: int = 0
    rows_per_second: float | None = None
    seconds_per_row: float | None = None
    setup_seconds: float | None = None  # imports and model load before the first row (served kernels: startup)
    projected_rows: int | None = None  # the hidden set's size the projection is for
    projected_seconds: float | None = None
    budget_seconds: float | None = None
    margin_seconds: float | None = None
    deadline_hit: bool = False
    calls: tuple[CallTiming, ...] = ()
    phases: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunReport:
        """Read the report's JSON object; unknown keys go to `extra`."""
        known = {f.name for f in dataclasses.fields(cls)} - {"calls", "extra"}
        values = {k: v for k, v in data.items() if k in known}
        calls = tuple(CallTiming(tuple(str(i) for i in c.get("row_ids", ())), float(c.get("seconds", 0.0)),
                                 c.get("budget_seconds"), bool(c.get("fallback", False)))
                      for c in data.get("calls") or ())
        extra = {k: v for k, v in data.items() if k not in known and k != "calls"}
        return cls(**values, calls=calls, extra=extra)

    @property
    def usable_seconds(self) -> float | None:
        """The budget less its margin, when the kernel knew its budget."""
        if self.budget_seconds is None:
            return None
        return float(self.budget_seconds) - float(self.margin_seconds or 0)

    @property
    def fits_budget(self) -> bool | None:
        """Whether the projected run over the hidden set fits the usable budget (None: unknown)."""
        usable = self.usable_seconds
        if self.projected_seconds is None or usable is None:
            return None
        return self.projected_seconds <= usable


def read_report(output_dir: Path) -> RunReport | None:
    """The report in a kernel's output folder, or None when the kernel wrote none."""
    path = Path(output_dir) / REPORT_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: unreadable run report ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("rows"), int):
        raise InputError(f"{path}: a run report needs an integer 'rows'")
    return RunReport.from_dict(data)
