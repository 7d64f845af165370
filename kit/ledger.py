"""The only sqlite3 user: the local ledger of pushed datasets, submissions, local experiments and leaderboard
snapshots.

Migrations are append-only and named; each runs once and is recorded in `_kit_migrations`. Never edit a
released migration: add a new one.
"""

from __future__ import annotations

import enum
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kit.artefacts import DatasetStatus, SubmissionStatus
from kit.config import kit_home

# Statuses after which a submission attempt is over (everything else can be continued by a re-run).
FINAL_STATUSES = tuple(s.value for s in SubmissionStatus.finals())
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = []
migration = MIGRATIONS.append


@migration
def m001_datasets(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE datasets (
            id INTEGER PRIMARY KEY,
            created_at REAL NOT NULL,
            kind TEXT NOT NULL,              -- adapter | wheels | other
            ref TEXT NOT NULL,               -- owner/slug
            version INTEGER,
            content_hash TEXT NOT NULL,
            status TEXT NOT NULL,            -- ready | failed | pending | skipped
            files TEXT,                      -- JSON list of file names
            size_bytes INTEGER,
            sandbox INTEGER NOT NULL DEFAULT 0,
            notes TEXT
        )"""
    )
    db.execute("CREATE INDEX datasets_ref ON datasets(ref, created_at)")


@migration
def m002_submissions(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE submissions (
            id INTEGER PRIMARY KEY,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            competition TEXT NOT NULL,
            sandbox INTEGER NOT NULL DEFAULT 0,
            message TEXT,
            kernel_ref TEXT,
            kernel_version INTEGER,
            kernel_hash TEXT,
            template TEXT,
            parameters TEXT,                 -- JSON of the rendered notebook parameters
            adapter_ref TEXT,
            adapter_version INTEGER,
            wheels_ref TEXT,
            wheels_version INTEGER,
            base_model_source TEXT,
            git_sha TEXT,
            git_dirty INTEGER,
            kit_version TEXT,
            local_score REAL,
            submission_ref INTEGER,
            -- pushing | running | kernel_error | submitting | pending | complete | error | refused
            status TEXT NOT NULL,
            public_score REAL,
            private_score REAL,
            error TEXT
        )"""
    )
    db.execute("CREATE INDEX submissions_comp ON submissions(competition, created_at)")


@migration
def m003_leaderboard(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE leaderboard_snapshots (
            id INTEGER PRIMARY KEY,
            taken_at REAL NOT NULL,
            competition TEXT NOT NULL,
            our_best REAL,
            our_rank INTEGER,
            top_score REAL,
            n_teams INTEGER,
            sandbox INTEGER NOT NULL DEFAULT 0
        )"""
    )


@migration
def m004_submission_origin(db: sqlite3.Connection) -> None:
    # origin: 'kit' (made by `kit submit`) or 'kaggle' (found by `kit history --sync`, made elsewhere);
    # kernel_dir and submission_file let `kit submit --resume` find the kernel folder it was run from.
    db.execute("ALTER TABLE submissions ADD COLUMN origin TEXT NOT NULL DEFAULT 'kit'")
    db.execute("ALTER TABLE submissions ADD COLUMN kernel_dir TEXT")
    db.execute("ALTER TABLE submissions ADD COLUMN submission_file TEXT")
    db.execute("CREATE INDEX submissions_kernel ON submissions(kernel_hash)")


@migration
def m005_local_experiments(db: sqlite3.Connection) -> None:
    # One row per `kit run-local` run and per `kit train` validation. content_key (also added to submissions)
    # is what links a submission to the local run of the same kernel content: see kit/chain/experiments.py.
    db.execute(
        """CREATE TABLE local_experiments (
            id INTEGER PRIMARY KEY,
            created_at REAL NOT NULL,
            kind TEXT NOT NULL,              -- run-local | train
            template TEXT,
            model_ref TEXT,                  -- folder or kit:<embedded name>
            model_hash TEXT,
            adapter_ref TEXT,
            adapter_hash TEXT,
            data_ref TEXT,
            data_hash TEXT,
            rows INTEGER,
            score REAL,
            score_ci_low REAL,
            score_ci_high REAL,
            score_n INTEGER,
            embedder TEXT,
            rows_per_second REAL,
            projected_seconds REAL,
            fits_budget INTEGER,
            out_dir TEXT,
            content_key TEXT,
            parameters TEXT,                 -- JSON
            git_sha TEXT,
            kit_version TEXT,
            details TEXT                     -- JSON: anything else worth keeping (losses, warnings)
        )"""
    )
    db.execute("CREATE INDEX local_experiments_key ON local_experiments(content_key, created_at)")
    db.execute("ALTER TABLE submissions ADD COLUMN content_key TEXT")
    db.execute("CREATE INDEX submissions_content ON submissions(content_key)")


@migration
def m006_known_statuses(db: sqlite3.Connection) -> None:
    # Statuses became kit.artefacts.SubmissionStatus. `kit history --sync` used to store any other Kaggle state
    # lowercased: such a row becomes 'error' (final) with the state it had kept in its error text. The list is
    # spelt out, not read from the enum, so this migration does the same thing whenever it runs.
    known = ("starting", "pushing", "running", "submitting", "pending", "complete", "error", "kernel_error",
             "invalid_output", "refused")
    db.execute(f"UPDATE submissions SET error = TRIM(COALESCE(error, '') || ' (status was ' || status || ')'),"
               f" status = 'error' WHERE status NOT IN ({', '.join('?' for _ in known)})", known)


@migration
def m007_generic_scorer(db: sqlite3.Connection) -> None:
    # The model a local score was computed with was named after the first competition's metric (`embedder`);
    # any pack's scorer goes there (the `scorer` of a Pack.score result).
    db.execute("ALTER TABLE local_experiments RENAME COLUMN embedder TO scorer")


def migrate(db: sqlite3.Connection) -> list[str]:
    """Apply every migration not yet recorded; returns the names applied now."""
    db.execute("CREATE TABLE IF NOT EXISTS _kit_migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
    done = {row[0] for row in db.execute("SELECT name FROM _kit_migrations")}
    applied = []
    for fn in MIGRATIONS:
        if fn.__name__ in done:
            continue
        with db:
            fn(db)
            db.execute("INSERT INTO _kit_migrations VALUES (?, ?)", (fn.__name__, time.time()))
        applied.append(fn.__name__)
    return applied


def default_path() -> Path:
    """$KIT_HOME/ledger.db"""
    return kit_home() / "ledger.db"


class Ledger:
    """A migrated connection to the ledger with the kit's queries."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path and str(path) != ":memory:" else (path or default_path())
        self.db = sqlite3.connect(str(self.path), timeout=30)
        self.db.row_factory = sqlite3.Row
        migrate(self.db)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self.db:
            yield self.db

    # ------------------------------------------------------------------ datasets

    def add_dataset_version(
        self, kind: str, ref: str, version: int | None, content_hash: str, *,
        status: DatasetStatus = DatasetStatus.READY,
        files: list[str] | None = None, size_bytes: int | None = None, sandbox: bool = False, notes: str = "",
    ) -> int:
        """Record one dataset push (or a skipped push whose content was unchanged)."""
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO datasets (created_at, kind, ref, version, content_hash, status, files, size_bytes,"
                " sandbox, notes) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (time.time(), kind, ref, version, content_hash, DatasetStatus(status).value, json.dumps(files or []),
                 size_bytes, int(sandbox), notes),
            )
            return int(cur.lastrowid)

    def latest_dataset_version(self, ref: str, sandbox: bool | None = None) -> dict[str, Any] | None:
        """The newest pushed (not skipped, not failed) version of `ref`, or None."""
        sql = "SELECT * FROM datasets WHERE ref = ? AND status = ?"
        args: list[Any] = [ref, DatasetStatus.READY.value]
        if sandbox is not None:
            sql += " AND sandbox = ?"
            args.append(int(sandbox))
        row = self.db.execute(sql + " ORDER BY id DESC LIMIT 1", args).fetchone()
        return _row(row)

    def datasets(self) -> list[dict[str, Any]]:
        """Every dataset push, oldest first."""
        return [_row(r) for r in self.db.execute("SELECT * FROM datasets ORDER BY id")]

    # ------------------------------------------------------------------ submissions

    def add_submission(self, competition: str, status: SubmissionStatus, **fields: Any) -> int:
        """Record a new submission attempt; returns its ledger id."""
        now = time.time()
        fields = {k: _encode(v) for k, v in fields.items()}
        cols = ["created_at", "updated_at", "competition", "status", *fields]
        with self._tx() as db:
            cur = db.execute(
                f"INSERT INTO submissions ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                (now, now, competition, SubmissionStatus(status).value, *fields.values()),
            )
            return int(cur.lastrowid)

    def update_submission(self, row_id: int, **fields: Any) -> None:
        """Update columns of one submission row (never deletes: the ledger keeps every attempt)."""
        if not fields:
            return
        if "status" in fields:
            fields["status"] = SubmissionStatus(fields["status"])  # ValueError on a state the kit does not know
        fields = {k: _encode(v) for k, v in fields.items()}
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self._tx() as db:
            db.execute(f"UPDATE submissions SET {sets}, updated_at = ? WHERE id = ?",
                       (*fields.values(), time.time(), row_id))

    def get_submission(self, row_id: int) -> dict[str, Any] | None:
        """One submission row as a dict."""
        return _row(self.db.execute("SELECT * FROM submissions WHERE id = ?", (row_id,)).fetchone())

    def submissions(self, competition: str | None = None, order: str = "time") -> list[dict[str, Any]]:
        """Submission rows; order 'time' (newest first) or 'best' (public score, then local score)."""
        sql = "SELECT * FROM submissions"
        args: list[Any] = []
        if competition:
            sql += " WHERE competition = ?"
            args.append(competition)
        if order == "best":
            sql += " ORDER BY public_score IS NULL, public_score DESC, local_score DESC, id DESC"
        else:
            sql += " ORDER BY id DESC"
        return [_row(r) for r in self.db.execute(sql, args)]

    def submission_rows(self, competition: str | None = None, *, sandbox: bool | None = None,
                        order: str = "time") -> list[dict[str, Any]]:
        """Like `submissions`, optionally only sandbox (True) or only real Kaggle (False) rows."""
        rows = self.submissions(competition, order=order)
        return rows if sandbox is None else [r for r in rows if bool(r["sandbox"]) == sandbox]

    def open_submissions(self, competition: str, *, sandbox: bool, kernel_hash: str | None = None
                         ) -> list[dict[str, Any]]:
        """Attempts that were interrupted before reaching a final status, newest first.

        Final statuses: FINAL_STATUSES (error means scoring failed)."""
        sql = ("SELECT * FROM submissions WHERE competition = ? AND sandbox = ? AND origin = 'kit'"
               f" AND status NOT IN ({', '.join('?' for _ in FINAL_STATUSES)})")
        args: list[Any] = [competition, int(sandbox), *FINAL_STATUSES]
        if kernel_hash is not None:
            sql += " AND kernel_hash = ?"
            args.append(kernel_hash)
        return [_row(r) for r in self.db.execute(sql + " ORDER BY id DESC", args)]

    def submissions_of_kernel(self, kernel_ref: str, version: int, *, sandbox: bool) -> list[dict[str, Any]]:
        """Rows that already hold a Kaggle submission of this exact kernel version."""
        rows = self.db.execute(
            "SELECT * FROM submissions WHERE kernel_ref = ? AND kernel_version = ? AND sandbox = ?"
            " AND submission_ref IS NOT NULL ORDER BY id", (kernel_ref, version, int(sandbox)))
        return [_row(r) for r in rows]

    def submission_by_ref(self, competition: str, submission_ref: int, *, sandbox: bool) -> dict[str, Any] | None:
        """The row holding Kaggle submission `submission_ref`, or None."""
        row = self.db.execute(
            "SELECT * FROM submissions WHERE competition = ? AND submission_ref = ? AND sandbox = ?"
            " ORDER BY id LIMIT 1", (competition, submission_ref, int(sandbox))).fetchone()
        return _row(row)

    def submissions_of_content(self, content_key: str, *, sandbox: bool) -> list[dict[str, Any]]:
        """Rows of this kernel content that hold a submission, newest first (sandbox and real kept apart)."""
        rows = self.db.execute(
            "SELECT * FROM submissions WHERE content_key = ? AND sandbox = ? AND submission_ref IS NOT NULL"
            " ORDER BY id DESC", (content_key, int(sandbox)))
        return [_row(r) for r in rows]

    # ------------------------------------------------------------------ local experiments

    def add_local_experiment(self, kind: str, **fields: Any) -> int:
        """Record one local experiment (a `kit run-local` run or a `kit train` validation); returns its id."""
        fields = {k: _encode(v) for k, v in fields.items()}
        cols = ["created_at", "kind", *fields]
        with self._tx() as db:
            cur = db.execute(
                f"INSERT INTO local_experiments ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                (time.time(), kind, *fields.values()),
            )
            return int(cur.lastrowid)

    def local_experiments(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Local experiments, newest first; only one kind when given."""
        sql, args = "SELECT * FROM local_experiments", []
        if kind:
            sql += " WHERE kind = ?"
            args.append(kind)
        return [_row(r) for r in self.db.execute(sql + " ORDER BY id DESC", args)]

    def local_experiment_of(self, content_key: str | None) -> dict[str, Any] | None:
        """The newest scored run-local experiment of this kernel content (None when there is none)."""
        if not content_key:
            return None
        row = self.db.execute(
            "SELECT * FROM local_experiments WHERE content_key = ? AND kind = 'run-local' AND score IS NOT NULL"
            " ORDER BY id DESC LIMIT 1", (content_key,)).fetchone()
        return _row(row)

    # ------------------------------------------------------------------ leaderboard

    def add_leaderboard_snapshot(self, competition: str, *, our_best: float | None, our_rank: int | None,
                                 top_score: float | None, n_teams: int | None, sandbox: bool = False) -> int:
        """Record what the leaderboard looked like now."""
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO leaderboard_snapshots (taken_at, competition, our_best, our_rank, top_score, n_teams,"
                " sandbox) VALUES (?,?,?,?,?,?,?)",
                (time.time(), competition, our_best, our_rank, top_score, n_teams, int(sandbox)),
            )
            return int(cur.lastrowid)

    def leaderboard_snapshots(self, competition: str) -> list[dict[str, Any]]:
        """Snapshots of one competition, oldest first."""
        rows = self.db.execute("SELECT * FROM leaderboard_snapshots WHERE competition = ? ORDER BY id", (competition,))
        return [_row(r) for r in rows]


def _encode(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, bool):
        return int(value)
    return value


def _row(row: sqlite3.Row | None) -> dict[str, Any] | None:
    return dict(row) if row is not None else None
