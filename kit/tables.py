"""Generic CSV input/output for competition files: ids are always strings, quoted multi-line fields survive.

The stdlib `csv` module is used on purpose (not pandas): it never guesses types, so ids such as `000aaa`
or `-1` stay exactly as written, and empty cells stay empty strings for the caller to judge.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from kit.errors import InputError
from kit.files import atomic_open

# Competition texts can be long essays; the stdlib default (128 KiB per field) is too small for some sets.
csv.field_size_limit(2**31 - 1)


def read_rows(path: Path | str, required: Sequence[str] = (), *, limit: int | None = None) -> list[dict[str, str]]:
    """Read a CSV with a header into a list of dicts of strings (the first `limit` records when given).

    Raises InputError naming the file when it is missing, empty, not UTF-8, malformed, or lacks one of the
    `required` columns. Extra columns are kept. A UTF-8 byte-order mark is ignored.
    """
    return list(itertools.islice(iter_rows(path, required), limit))


def iter_rows(path: Path | str, required: Sequence[str] = ()) -> Iterator[dict[str, str]]:
    """read_rows' records one at a time (the errors are raised when reached)."""
    with _reader(path) as reader:
        header = list(reader.fieldnames or [])
        missing = [c for c in required if c not in header]
        if missing:
            raise InputError(f"{path}: missing column(s) {', '.join(missing)}",
                             hint=f"columns found: {', '.join(header)}")
        for row in reader:
            # Short rows give None for absent cells, long rows a None key: normalise both.
            yield {k: ("" if v is None else v) for k, v in row.items() if k is not None}


def read_header(path: Path | str) -> list[str]:
    """The column names of a CSV file; InputError as for read_rows."""
    with _reader(path) as reader:
        return list(reader.fieldnames or [])


@contextmanager
def _reader(path: Path | str) -> Iterator[csv.DictReader]:
    """A DictReader over `path` whose header is present; decoding and parsing errors, wherever the caller
    meets them while reading, become one InputError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames:
                raise InputError(f"{path}: empty file (no header row)")
            yield reader
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise InputError(f"{path}: malformed CSV ({exc})") from None


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


def copy_head(src: Path | str, dst: Path | str, rows: int) -> Path:
    """Write the header and the first `rows` records of CSV `src` to `dst` (quoted multi-line fields kept)."""
    return write_rows(dst, read_rows(src, limit=rows), read_header(src))
