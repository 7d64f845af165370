"""The served kernel's predict: always the gateway's schema, a fallback for every failure, time banked per row."""

from __future__ import annotations

import json
import threading
import time

import pandas as pd
import pytest

from kit.kernel.report import RunReport, read_report
from kit.kernel.serving import CallBudget, Deadline, Lazy, serve_predict


def test_time_left_is_shared_over_the_rows_left_and_the_per_call_deadline_caps_it():
    budget = CallBudget(budget_seconds=100, expected_rows=4, margin_seconds=0, per_call_seconds=30,
                        call_safety_seconds=5)
    assert budget.share(elapsed=0, rows_done=0) == 25
    assert budget.share(elapsed=5, rows_done=1) == pytest.approx(95 / 3)  # the first row's unused time is banked
    assert budget.share(elapsed=120, rows_done=2) == 0
    assert budget.call_limit(0) is None and budget.call_limit(1) == 25  # the first call is exempt (0.9 gateways)
    assert CallBudget(100, 4, per_call_seconds=30, first_call_exempt=False).call_limit(0) == 25
    with pytest.raises(ValueError):
        CallBudget(100, 0)


def _predict(tmp_path, solve, **budget):
    values = {"budget_seconds": 60, "expected_rows": 3, "margin_seconds": 0, **budget}
    return serve_predict(solve, row_id_column="id", target_column="answer", fallback=0, budget=CallBudget(**values),
                         started_at=time.time(), report_path=tmp_path / "timing_report.json")


def test_answers_keep_the_gateway_schema_and_every_failure_becomes_the_fallback(tmp_path):
    def solve(row, deadline):
        if row["problem"] == "boom":
            raise ZeroDivisionError("division by zero in my solver")
        return None if row["problem"] == "pass" else len(row["problem"])

    predict = _predict(tmp_path, solve)
    assert predict.__name__ == "predict"  # the gateway dispatches by name
    out = predict(pd.Series(["a", "b", "c"], name="id"), pd.Series(["four", "boom", "pass"], name="problem"))
    assert isinstance(out, pd.DataFrame) and out.to_dict("list") == {"id": ["a", "b", "c"], "answer": [4, 0, 0]}
    report = RunReport.from_dict(json.loads((tmp_path / "timing_report.json").read_text()))
    assert (report.rows, report.fallback_rows, report.deadline_hit) == (3, 2, False)
    assert [c.fallback for c in report.calls] == [False, True, True]
    assert report.extra["failures"] == ["solver raised: ZeroDivisionError: division by zero in my solver",
                                         "solver gave no answer"]
    assert report.setup_seconds is not None and report.projected_rows == 3


def test_a_cooperative_solver_stops_at_its_allowance_and_one_that_ignores_it_is_abandoned(tmp_path):
    seen: list[float] = []

    def patient(row, deadline):
        steps = 0
        while not deadline.expired():
            steps += 1
            time.sleep(0.01)
        seen.append(deadline.seconds)
        return steps

    predict = _predict(tmp_path, patient, budget_seconds=0.6, expected_rows=2)
    began = time.monotonic()
    out = predict(pd.Series(["p1"], name="id"), pd.Series(["x"], name="problem"))
    assert out["answer"][0] > 0 and time.monotonic() - began < 1.0 and seen[0] == pytest.approx(0.3, abs=0.05)

    release = threading.Event()

    def stubborn(row, deadline):
        release.wait(10)  # ignores its deadline
        return 7

    predict = _predict(tmp_path, stubborn, budget_seconds=0.4, expected_rows=1)
    began = time.monotonic()
    out = predict(pd.Series(["p2"], name="id"), pd.Series(["y"], name="problem"))
    release.set()
    assert out["answer"].tolist() == [0] and time.monotonic() - began < 2.5  # allowance plus a second's grace
    report = read_report(tmp_path)
    assert report.deadline_hit and report.calls[0].fallback and "abandoned" in report.extra["failures"][0]


def test_a_row_with_no_time_left_gets_the_fallback_without_calling_the_solver(tmp_path):
    called = []
    predict = _predict(tmp_path, lambda row, d: called.append(row) or 1, budget_seconds=1, margin_seconds=1)
    out = predict(pd.Series(["z"], name="id"), pd.Series(["q"], name="problem"))
    assert out["answer"].tolist() == [0] and called == []


def test_the_model_loads_once_on_first_use():
    built = []
    model = Lazy(lambda: built.append(1) or "weights")
    threads = [threading.Thread(target=model.get) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert built == [1] and model.get() == "weights" and model.load_seconds is not None


def test_a_deadline_counts_down_and_can_be_cancelled():
    deadline = Deadline(5)
    assert 4 < deadline.left() <= 5 and not deadline.expired()
    deadline.cancel()
    assert deadline.left() == 0 and deadline.expired()
