"""The "file" mechanism: the notebook writes the submission (CSV or Parquet) into /kaggle/working, and Kaggle
scores that file after re-running the notebook on the hidden data. Also the check every submission file passes
before anything is submitted, whichever mechanism wrote it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from kit.errors import InputError, MissingDependencyError, SubmissionError
from kit.mechanisms.base import Mechanism, Rerun, ScoringFailure, kernel_outcome
from kit.tables import read_header, read_rows


class FileMechanism(Mechanism):
    """The notebook writes `spec.file_name` into /kaggle/working; Kaggle scores that file."""

    name = "file"

    def check_output(self, spec: Any, output_dir: Path, expected_ids: set[str] | None = None) -> int:
        """The file the notebook wrote passes `check_submission_file`."""
        return check_submission_file(output_dir / spec.file_name, list(spec.columns), expected_ids)

    def score_rerun(self, rerun: Rerun) -> Path:
        """Run the kernel once with the rerun flag; the file it left in /kaggle/working is the submission."""
        kernel_outcome(rerun.run_kernel())
        out = rerun.working_dir / rerun.file_name
        if not out.is_file():
            # Kaggle's category names the CSV whatever the file's format.
            raise ScoringFailure("Submission CSV Not Found", f"the notebook did not write {rerun.file_name}")
        return out


def read_table(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows (values as text) of a CSV, or of a Parquet file (pandas/pyarrow, imported only then)."""
    if path.suffix.lower() != ".parquet":
        return read_header(path), read_rows(path)
    try:
        import pandas as pd
    except ImportError:
        raise MissingDependencyError("reading a Parquet submission needs pandas and pyarrow",
                                     hint="pip install pandas pyarrow") from None
    try:
        frame = pd.read_parquet(path)
    except ImportError:
        raise MissingDependencyError("reading a Parquet submission needs pyarrow", hint="pip install pyarrow") from None
    except Exception as exc:  # pyarrow's own errors for a corrupt file
        raise InputError(f"{path}: {exc}") from None
    header = [str(c) for c in frame.columns]
    rows = [{c: "" if v is None or v != v else str(v) for c, v in zip(header, rec, strict=True)}
            for rec in frame.itertuples(index=False, name=None)]
    return header, rows


def check_submission_file(path: Path, columns: list[str] | tuple[str, ...],
                          expected_ids: set[str] | None = None) -> int:
    """SubmissionError unless `path` is a CSV or Parquet file with `columns`, at least one row, unique non-empty ids
    and no blank value; with `expected_ids`, every one of them must be present. Returns the row count."""

    def bad(why: str) -> SubmissionError:
        return SubmissionError(f"kernel output {path.name}: {why}", hint="nothing was submitted")

    if not path.is_file():
        raise bad("missing from the kernel output")
    try:
        header, rows = read_table(path)
    except InputError as exc:
        kind = "Parquet" if path.suffix.lower() == ".parquet" else "CSV"
        raise bad(f"does not parse as {kind}: {exc.message.removeprefix(f'{path}: ')}") from None
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
