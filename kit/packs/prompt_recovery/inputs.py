"""Input files checked up front, in the calling process, naming the user's own file and the first bad ids.

`kit run-local --data` checks its folder here before a kernel starts (a bad file would otherwise surface as a
notebook failure naming a temporary copy); `kit score` checks both files before it loads any model.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from kit.errors import InputError
from kit.packs.prompt_recovery.kernel import TEST_COLUMNS
from kit.packs.prompt_recovery.metric import first_ids, is_blank
from kit.tables import read_rows

LABEL_COLUMNS = ("id", "rewrite_prompt")


def _ids(path: Path, rows: list[dict[str, str]]) -> list[str]:
    """The id column, refusing blank and duplicate ids (InputError naming `path`)."""
    ids = [r["id"] for r in rows]
    blank = [n for n, i in enumerate(ids, start=2) if not i.strip()]
    if blank:
        raise InputError(f"{path}: {len(blank)} row(s) with a blank id, first at line(s) {first_ids(blank)}")
    dupes = [i for i, n in Counter(ids).items() if n > 1]
    if dupes:
        raise InputError(f"{path}: {len(dupes)} duplicate id(s), first: {first_ids(dupes)}")
    return ids


def check_test_folder(data_dir: Path, labels_name: str) -> int:
    """A competition-format folder: test.csv with its columns, rows and unique ids; the labels file, when
    present, with a non-blank label for every test id. Returns the number of test rows."""
    data_dir = Path(data_dir)
    test = data_dir / "test.csv"
    if not test.is_file():
        raise InputError(f"{data_dir}: no test.csv", hint="--data must be a folder in the competition's format")
    rows = read_rows(test, required=TEST_COLUMNS)
    if not rows:
        raise InputError(f"{test}: header but no rows")
    ids = _ids(test, rows)
    labels_path = data_dir / labels_name
    if labels_path.is_file():
        labels = read_rows(labels_path, required=LABEL_COLUMNS)
        known = dict(zip(_ids(labels_path, labels), (r["rewrite_prompt"] for r in labels), strict=True))
        missing = [i for i in ids if i not in known]
        if missing:
            raise InputError(f"{labels_path}: no label for {len(missing)} id(s) of {test}, first: "
                             f"{first_ids(missing)}")
        blank = [i for i in ids if is_blank(known[i])]
        if blank:
            raise InputError(f"{labels_path}: {len(blank)} blank label(s), first ids: {first_ids(blank)}")
    return len(rows)
