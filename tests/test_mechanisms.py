"""The submission-mechanism extension point: the registry, the file mechanism's checks and re-run, the run report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit.errors import ConfigError, InputError, SubmissionError
from kit.kernel.report import REPORT_FILE, RunReport, read_report
from kit.mechanisms.base import Mechanism, Rerun, ScoringFailure
from kit.mechanisms.file import FileMechanism, check_submission_file
from kit.mechanisms.registry import available_mechanisms, get_mechanism
from kit.pack import SubmissionSpec

SPEC = SubmissionSpec(("id", "answer"), "submission.parquet")


def test_the_file_mechanism_comes_from_its_entry_point_and_unknown_names_are_one_line():
    mech = get_mechanism("file")
    assert isinstance(mech, FileMechanism) and isinstance(mech, Mechanism) and "file" in available_mechanisms()
    with pytest.raises(ConfigError, match=r"unknown submission mechanism 'gateway' \(known: .*file"):
        get_mechanism("gateway")


def test_parquet_submissions_pass_the_same_checks_as_csv(tmp_path):
    pd = pytest.importorskip("pandas")
    good = tmp_path / "submission.parquet"
    pd.DataFrame({"id": ["a", "b"], "answer": [7, 12]}).to_parquet(good, index=False)
    assert check_submission_file(good, ["id", "answer"], {"a", "b"}) == 2
    assert FileMechanism().check_output(SPEC, tmp_path) == 2
    pd.DataFrame({"id": ["a", "b"], "answer": [7, None]}).to_parquet(good, index=False)
    with pytest.raises(SubmissionError, match="1 row\\(s\\) have a blank answer"):
        check_submission_file(good, ["id", "answer"])
    pd.DataFrame({"id": ["a"], "value": [1]}).to_parquet(good, index=False)
    with pytest.raises(SubmissionError, match="missing column\\(s\\) answer"):
        check_submission_file(good, ["id", "answer"])
    good.write_bytes(b"not parquet at all")
    with pytest.raises(SubmissionError, match="does not parse as Parquet"):
        check_submission_file(good, ["id", "answer"])


def test_the_run_report_is_read_once_and_counted_when_a_kernel_wrote_none(tmp_path):
    assert read_report(tmp_path) is None
    (tmp_path / "submission.csv").write_text("id,answer\na,1\nb,2\nc,3\n")
    csv_spec = SubmissionSpec(("id", "answer"))
    assert FileMechanism().read_report(csv_spec, tmp_path) == RunReport(rows=3)
    data = {"rows": 3, "fallback_rows": 1, "projected_seconds": 7200.0, "budget_seconds": 32400,
            "margin_seconds": 1800, "deadline_hit": True, "calls": [{"row_ids": ["a"], "seconds": 2.5}],
            "template": "best"}
    (tmp_path / REPORT_FILE).write_text(json.dumps(data))
    report = FileMechanism().read_report(csv_spec, tmp_path)
    assert (report.fallback_rows, report.deadline_hit, report.fits_budget, report.usable_seconds) == (1, True, True,
                                                                                                      30600.0)
    assert report.calls[0].row_ids == ("a",) and report.extra == {"template": "best"}
    (tmp_path / REPORT_FILE).write_text('{"rows": "three"}')
    with pytest.raises(InputError, match="needs an integer 'rows'"):
        read_report(tmp_path)


def _rerun(tmp_path: Path, outcome: dict, writes: str | None) -> Rerun:
    def run_kernel() -> dict:
        if writes is not None:
            (tmp_path / "submission.csv").write_text(writes)
        return outcome

    return Rerun(run_kernel=run_kernel, working_dir=tmp_path, run_dir=tmp_path, file_name="submission.csv")


@pytest.mark.parametrize(("outcome", "writes", "category"), [
    ({"status": "ERROR", "failureMessage": "Notebook Timeout"}, "id,answer\na,1\n", "Notebook Timeout"),
    ({"status": "ERROR", "failureMessage": "ValueError: boom"}, None, "Notebook Threw Exception"),
    ({"status": "COMPLETE", "failureMessage": ""}, None, "Submission CSV Not Found"),
])
def test_a_file_rerun_fails_with_the_category_kaggle_shows(tmp_path, outcome, writes, category):
    with pytest.raises(ScoringFailure) as caught:
        FileMechanism().score_rerun(_rerun(tmp_path, outcome, writes))
    assert caught.value.category == category and str(caught.value).startswith(category)


def test_a_file_rerun_hands_back_the_file_the_kernel_wrote(tmp_path):
    out = FileMechanism().score_rerun(_rerun(tmp_path, {"status": "COMPLETE"}, "id,answer\na,1\n"))
    assert out == tmp_path / "submission.csv" and out.read_text().endswith("a,1\n")
