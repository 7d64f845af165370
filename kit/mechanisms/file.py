"""The check every kernel-written submission file passes before anything is submitted (the "file" mechanism of
kit/pack.py): whatever the competition, Kaggle scores a CSV with the submission's columns, one row per id.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from kit.errors import InputError, SubmissionError
from kit.tables import read_header, read_rows


def check_submission_file(path: Path, columns: list[str] | tuple[str, ...],
                          expected_ids: set[str] | None = None) -> int:
    """SubmissionError unless `path` is a CSV with `columns`, at least one row, unique non-empty ids and
    no blank value; with `expected_ids`, every one of them must be present. Returns the row count."""

    def bad(why: str) -> SubmissionError:
        return SubmissionError(f"kernel output {path.name}: {why}", hint="nothing was submitted")

    if not path.is_file():
        raise bad("missing from the kernel output")
    try:
        header, rows = read_header(path), read_rows(path)
    except InputError as exc:
        raise bad(f"does not parse as CSV: {exc.message.removeprefix(f'{path}: ')}") from None
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
