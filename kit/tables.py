"""Generic CSV input/output for competition files: ids are always strings, quoted multi-line fields survive.

The stdlib `csv` module is used on purpose (not pandas): it never guesses types, so ids such as `000aaa`
or `-1` stay exactly as written, and empty cells stay empty strings for the caller to judge.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from kit.errors import InputError
from kit.files import atomic_open

# Competition texts can be long essays; the stdlib default (128 KiB per field) is too small for some sets.
csv.field_size_limit(2**31 - 1)


def read_rows(path: Path | str, required: Sequence[str] = ()) -> list[dict[str, str]]:
    """Read a CSV with a header into a list of dicts of strings.

    Raises InputError naming the file when it is missing, empty, or lacks one of the `required` columns.
    Extra columns are kept. A UTF-8 byte-order mark is ignored.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames
            if not header:
                raise InputError(f"{path}: empty file (no header row)")
            missing = [c for c in required if c not in header]
            if missing:
                raise InputError(
                    f"{path}: missing column(s) {', '.join(missing)}",
                    hint=f"columns found: {', '.join(header)}",
                )
            rows = []
            for row in reader:
                # Short rows give None for absent cells, long rows a None key: normalise both.
                rows.append({k: ("" if v is None else v) for k, v in row.items() if k is not None})
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise InputError(f"{path}: malformed CSV ({exc})") from None
    return rows


def write_rows(path: Path | str, rows: Iterable[dict], columns: Sequence[str]) -> Path:
    """Write `rows` (only `columns`, in that order) atomically: a temp file in the same folder, then rename.

    A reader never sees a half-written file, which matters for submission files rewritten while a kernel runs.
    """
    with atomic_open(path, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: ("" if row.get(c) is None else row.get(c)) for c in columns})
    return Path(path)
