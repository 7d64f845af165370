"""What the inference notebook's cells call: path resolution, data, fallback-first submission, report.

The notebook (notebooks/infer.ipynb) stays glue: the same functions run under papermill locally
(`kit run-local`), in the sandbox emulator and on Kaggle. Everything is driven by the notebook's
parameters, with paths either absolute or relative to `input_dir`, and outputs in the working directory.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kit.errors import InputError
from kit.recovery.guard import SubmissionWriter, TimeGuard, write_report

TEST_COLUMNS = ("id", "original_text", "rewritten_text")
SUBMISSION_FILE = "submission.csv"
REPORT_FILE = "timing_report.json"


def resolve_path(value: str | os.PathLike | None, input_dir: str | os.PathLike) -> Path | None:
    """`value` as a path: absolute as given, relative ones under `input_dir`; empty means none."""
    if value is None or not str(value).strip():
        return None
    path = Path(str(value).strip())
    return path if path.is_absolute() else Path(input_dir) / path


def model_path(model_dir: str | os.PathLike | None, input_dir: str | os.PathLike) -> Path:
    """The base model folder; empty means the kit's embedded instruct model (rehearsals and the sandbox only)."""
    path = resolve_path(model_dir, input_dir)
    if path is None:
        from kit.assets import default_model_path

        return default_model_path()
    if not (path / "config.json").is_file():
        raise InputError(f"no model at {path} (config.json missing)", hint="check model_dir and the kernel's inputs")
    return path


def rewriter_path(rewriter_dir: str | os.PathLike | None, input_dir: str | os.PathLike) -> Path:
    """The rewriter model for re-scoring templates; empty means the kit's embedded instruct model (rehearsals and
    the sandbox; on Kaggle it is the `[kaggle] rewriter_model` source, e.g. Gemma 7B-it as the host used)."""
    path = resolve_path(rewriter_dir, input_dir)
    if path is None:
        from kit import assets

        return assets.instruct_model_path()
    if not (path / "config.json").is_file():
        raise InputError(f"no rewriter model at {path} (config.json missing)",
                         hint="check rewriter_dir and the kernel's inputs")
    return path


def template_for(name: str, adapter_dir: str | os.PathLike | None, input_dir: str | os.PathLike) -> Any:
    """The template `name`, in the prompt format and prime the adapter was trained with when the adapter's
    kit_adapter.json records them (train and predict in the same format)."""
    from kit.recovery.templates import get_template
    from kit.recovery.train_data import trained_format

    template = get_template(name)
    adapter = resolve_path(adapter_dir, input_dir)
    return trained_format(template, adapter) if adapter is not None else template


def competition_dir(input_dir: str | os.PathLike, slug: str) -> Path:
    """The competition's data folder: `<input>/<slug>/` or `<input>/competitions/<slug>/` (newer Kaggle)."""
    tried = [Path(input_dir) / slug, Path(input_dir) / "competitions" / slug]
    for folder in tried:
        if (folder / "test.csv").is_file():
            return folder
    raise InputError(f"no test.csv for competition '{slug}'", hint="looked in " + ", ".join(map(str, tried)))


def load_rows(data_dir: str | os.PathLike, limit: int = 0) -> list[dict[str, str]]:
    """test.csv rows (id, original_text, rewritten_text); `limit` > 0 keeps the first `limit` rows."""
    from kit.tables import read_rows

    rows = read_rows(Path(data_dir) / "test.csv", required=TEST_COLUMNS)
    if not rows:
        raise InputError(f"{data_dir}/test.csv has no rows")
    return rows[:limit] if limit and limit > 0 else rows


def open_submission(rows: Sequence[dict[str, str]], template: Any, mean_prompt: str | None = None,
                    path: str | os.PathLike = SUBMISSION_FILE) -> SubmissionWriter:
    """Write the complete fallback submission (the template's fallback for every id) and return its writer."""
    fallback = {r["id"]: template.fallback(r["original_text"], r["rewritten_text"], mean_prompt=mean_prompt)
                for r in rows}
    return SubmissionWriter(path, [r["id"] for r in rows], fallback)


def finish(guard: TimeGuard, writer: SubmissionWriter, template: Any, *, path: str | os.PathLike = REPORT_FILE,
           **extra: Any) -> dict[str, Any]:
    """Write the JSON timing report beside the submission and print a one-line summary; returns the report."""
    primes = list(template.primes)
    report = guard.report(rows=len(writer.ids), fallback_rows=writer.fallback_rows, template=template.name,
                          primes=primes, submission=str(writer.path), submission_writes=writer.writes, **extra)
    report["rows_per_prime"] = dict(zip(primes, report["rows_per_pass"], strict=False))
    write_report(path, report)
    print(summary(report))
    return report


def summary(report: dict[str, Any]) -> str:
    """One line: rows, fallbacks, rate, projection for the hidden set against the usable budget."""
    rate = report.get("rows_per_second")
    projected = report.get("projected_seconds")
    parts = [f"rows={report['rows']}", f"fallback_rows={report['fallback_rows']}",
             f"rows_per_prime={report.get('rows_per_prime', report['rows_per_pass'])}",
             f"rows/s={rate if rate is not None else 'n/a'}"]
    for name, phase in report.get("phases", {}).items():
        parts.append(f"{name} phase: {sum(phase['items_per_pass'])} rows in {phase['work_seconds']:.1f}s")
    if projected is not None:
        verdict = "fits" if report.get("fits_budget") else "DOES NOT FIT"
        parts.append(f"projected {report['projected_rows']} rows: {projected / 3600:.2f} h {verdict} "
                     f"{report['usable_seconds'] / 3600:.2f} h usable")
    if report.get("deadline_hit"):
        parts.append("deadline hit: stopped early")
    return "timing: " + ", ".join(parts)
