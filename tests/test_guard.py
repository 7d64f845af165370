"""Time guard and fallback-first submission writes: budget, breadth-first order, atomicity under SIGKILL."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kit.kernel.guard import SubmissionWriter, TimeGuard, write_report


def _read(path: Path) -> dict[str, str]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["id", "answer"]  # the columns the caller (a pack) names
    return {r[0]: r[1] for r in rows[1:]}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_writer_is_complete_from_the_first_write_and_keeps_fallback_for_empty(tmp_path):
    path = tmp_path / "out" / "submission.csv"
    writer = SubmissionWriter(path, ["b", "a", "007"], {"a": "fa", "b": "fb", "007": "f7"}, value_column="answer")
    assert _read(path) == {"b": "fb", "a": "fa", "007": "f7"}
    assert writer.update({"a": "pred, with \"quotes\"\nand a newline", "b": "", "007": None}) == 1
    assert _read(path) == {"b": "fb", "a": "pred, with \"quotes\"\nand a newline", "007": "f7"}
    assert writer.fallback_rows == 2 and writer.fallback_ids == ["b", "007"]  # in submission order
    assert [p.name for p in path.parent.iterdir()] == ["submission.csv"]  # no temp files left behind
    with pytest.raises(KeyError):
        writer.update({"zzz": "x"})
    with pytest.raises(ValueError):
        SubmissionWriter(tmp_path / "x.csv", ["a"], [" "], value_column="answer")


def test_schedule_is_breadth_first_and_stops_before_the_deadline():
    clock = FakeClock()
    guard = TimeGuard(budget_seconds=100, margin_seconds=15, started_at=clock.now, clock=clock)
    clock.now += 10  # setup (model load) before the first chunk
    seen = []
    for p, chunk in guard.schedule(3, list(range(10)), chunk_size=4):
        seen.append((p, tuple(chunk)))
        clock.now += 3.0 * len(chunk)  # 3 s per item
    # deadline = start + 85; work from +10: passes 1 and 2 end at +70, a chunk of 4 ends at +82, the next
    # one would end at +94 and is not started.
    # a one-item probe first (no rate yet), then regular chunks
    assert seen[:5] == [(0, (0,)), (0, (1, 2, 3, 4)), (0, (5, 6, 7, 8)), (0, (9,)), (1, (0, 1, 2, 3))]
    assert guard.deadline_hit
    assert clock.now <= guard.deadline  # never started a chunk projected to overrun
    report = guard.report(rows=10, fallback_rows=3, projected_rows=1000)  # the hidden set's size, from the pack
    assert report["rows_per_pass"] == [10, 10, 4]
    assert report["skipped_item_passes"] == 6
    assert report["seconds_per_item_pass"] == pytest.approx(3.0)
    assert report["seconds_per_row"] == pytest.approx(9.0)
    assert report["projected_seconds"] == pytest.approx(10 + 1000 * 3 * 3.0) and report["projected_rows"] == 1000
    assert report["fits_budget"] is False and report["unreached_rows"] == 0


def test_schedule_without_deadline_pressure_runs_everything():
    guard = TimeGuard(budget_seconds=3600, margin_seconds=0)
    chunks = list(guard.schedule(2, "abcde", chunk_size=2, probe_items=2))
    assert [p for p, _ in chunks] == [0, 0, 0, 1, 1, 1]
    assert not guard.deadline_hit and guard.done_per_pass == [5, 5]


def test_probe_rate_is_replaced_by_regular_chunks():
    clock = FakeClock()
    guard = TimeGuard(budget_seconds=1000, margin_seconds=0, clock=clock)
    for _, chunk in guard.schedule(1, range(9), chunk_size=4):
        clock.now += 4.0 if len(chunk) == 1 else 1.0 * len(chunk)  # a batch of one is slow per row
        if len(chunk) == 1:
            assert guard.seconds_per_item() is None
    assert guard.seconds_per_item() == pytest.approx(1.0) and guard.work_seconds == pytest.approx(12.0)


def test_report_round_trips_as_sorted_json(tmp_path):
    guard = TimeGuard(budget_seconds=60, margin_seconds=5)
    report = guard.report(rows=3, fallback_rows=3, projected_rows=3, extra="x")
    path = write_report(tmp_path / "timing_report.json", report)
    data = json.loads(path.read_text())
    assert list(data) == sorted(data) and data["extra"] == "x" and data["passes"] == 0


KILL_SCRIPT = textwrap.dedent("""
    import sys, time
    from kit.kernel.guard import SubmissionWriter, TimeGuard
    ids = [f"id{i:05d}" for i in range(int(sys.argv[2]))]
    writer = SubmissionWriter(sys.argv[1], ids, ["fallback prompt"] * len(ids), value_column="answer")
    print("ready", flush=True)
    guard = TimeGuard(budget_seconds=600, margin_seconds=0)
    for p, chunk in guard.schedule(1000, ids, chunk_size=500):  # rewrites the big file non-stop
        writer.update({i: f"prediction {p} for {i} " + "x" * 200 for i in chunk})
""")


def test_sigkill_mid_write_leaves_a_complete_submission(tmp_path):
    script = tmp_path / "kernel.py"
    script.write_text(KILL_SCRIPT)
    path = tmp_path / "submission.csv"
    n = 5000
    proc = subprocess.Popen([sys.executable, str(script), str(path), str(n)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    first = path.stat().st_mtime_ns
    deadline = time.time() + 20
    while path.stat().st_mtime_ns == first and time.time() < deadline:  # wait until updates are flowing
        time.sleep(0.02)
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    values = _read(path)
    assert len(values) == n and all(v.strip() for v in values.values())
    assert any(v.startswith("prediction") for v in values.values())


def test_budget_lines_keep_kaggles_budget_apart_from_the_runs_own():
    """A rehearsal's short budget is not a verdict on Kaggle's: the two are separate, labelled lines."""
    from kit.kernel.guard import duration, kaggle_budget_line, run_budget_line

    report = {"rows": 100, "fallback_rows": 99, "projected_rows": 1400, "projected_seconds": 11_520.0,
              "budget_seconds": 150.0, "margin_seconds": 30.0, "usable_seconds": 120.0, "deadline_hit": True}
    assert kaggle_budget_line(report, 30_600.0) == ("Kaggle budget: projected 1400 rows at this machine's rate: "
                                                    "3.20 h, within the 8.50 h usable on Kaggle")
    assert "over the 2.00 h usable" in kaggle_budget_line(report, 7200.0)
    assert kaggle_budget_line({**report, "projected_seconds": None}, 30_600.0) is None
    assert run_budget_line(report, "rehearsal budget") == ("rehearsal budget: 150 s (120 s usable); 1 of 100 rows "
                                                           "predicted, 99 on the fallback; the time guard stopped at "
                                                           "its deadline")
    assert run_budget_line({**report, "fallback_rows": 0, "deadline_hit": False}).startswith("this run's budget:")
    assert [duration(s) for s in (150, 1800, 32_400)] == ["150 s", "30 min", "9.00 h"]
