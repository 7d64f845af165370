"""Ledger schema and queries."""

from __future__ import annotations

import sqlite3

from kit.ledger import MIGRATIONS, Ledger, migrate


def _columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]


def test_schema_and_idempotent_migrations():
    db = sqlite3.connect(":memory:")
    assert migrate(db) == [fn.__name__ for fn in MIGRATIONS]
    assert migrate(db) == []
    cols = _columns(db, "submissions")
    for name in ("kernel_ref", "kernel_version", "template", "parameters", "adapter_ref", "adapter_version",
                 "wheels_version", "base_model_source", "git_sha", "git_dirty", "kit_version", "local_score",
                 "submission_ref", "status", "public_score", "private_score", "error"):
        assert name in cols
    assert {"ref", "version", "content_hash", "kind"} <= set(_columns(db, "datasets"))
    assert {"our_best", "our_rank", "top_score"} <= set(_columns(db, "leaderboard_snapshots"))
    local = _columns(db, "local_experiments")  # the scorer any pack's metric used, under a generic name
    assert "scorer" in local and "embedder" not in local


def test_submissions_keep_every_attempt_and_order_best(tmp_path):
    with Ledger(tmp_path / "l.db") as led:
        a = led.add_submission("comp", "error", error="kernel failed", parameters={"template": "best"})
        b = led.add_submission("comp", "pending", kernel_ref="u/k", kernel_version=2)
        led.update_submission(b, status="complete", public_score=0.61)
        c = led.add_submission("comp", "complete", public_score=0.65)
        assert [r["id"] for r in led.submissions("comp")] == [c, b, a]
        assert [r["id"] for r in led.submissions("comp", order="best")][:2] == [c, b]
        assert led.get_submission(a)["parameters"] == '{"template": "best"}'
    with Ledger(tmp_path / "l.db") as again:  # persisted
        assert len(again.submissions()) == 3


def test_latest_dataset_version_ignores_skips(tmp_path):
    with Ledger(tmp_path / "l.db") as led:
        led.add_dataset_version("adapter", "u/a", 1, "h1")
        led.add_dataset_version("adapter", "u/a", 2, "h2")
        led.add_dataset_version("adapter", "u/a", None, "h2", status="skipped")
        assert led.latest_dataset_version("u/a")["version"] == 2
        assert led.latest_dataset_version("u/zzz") is None


def test_a_database_of_an_older_kit_reads_through_the_status_enum(tmp_path):
    """Rows written as plain strings before the enum keep their meaning (final ones are not continued); a state
    the enum does not know (stored by an older `history --sync`) becomes a final error that says what it was."""
    import pytest

    from kit.artefacts import SubmissionRow, SubmissionStatus

    db = sqlite3.connect(tmp_path / "old.db")
    for fn in MIGRATIONS[:5]:  # what the kit of m005 created
        fn(db)
    db.execute("CREATE TABLE _kit_migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
    db.executemany("INSERT INTO _kit_migrations VALUES (?, 0)", [(fn.__name__,) for fn in MIGRATIONS[:5]])
    for status in ("starting", "running", "kernel_error", "refused", "pending", "complete", "cancelled"):
        db.execute("INSERT INTO submissions (created_at, updated_at, competition, status, parameters)"
                   " VALUES (0, 0, 'c', ?, '{\"template\": \"best\"}')", (status,))
    db.commit()
    db.close()
    with Ledger(tmp_path / "old.db") as led:
        assert [r["status"] for r in led.open_submissions("c", sandbox=False)] == ["pending", "running", "starting"]
        rows = [SubmissionRow.from_row(r) for r in led.submissions("c")]
        assert rows[0].status == SubmissionStatus.ERROR and rows[0].error == "(status was cancelled)"
        assert rows[1].parameters == {"template": "best"} and rows[1].sandbox is False
        row_id = led.add_submission("c", SubmissionStatus.REFUSED)
        assert led.get_submission(row_id)["status"] == "refused" == SubmissionStatus.REFUSED
        with pytest.raises(ValueError, match="'done' is not a valid SubmissionStatus"):
            led.update_submission(row_id, status="done")
        with pytest.raises(ValueError, match="'done' is not a valid DatasetStatus"):
            led.add_dataset_version("adapter", "u/a", 1, "h", status="done")


def test_the_row_dataclass_has_every_column():
    import dataclasses

    from kit.artefacts import SubmissionRow

    db = sqlite3.connect(":memory:")
    migrate(db)
    assert sorted(f.name for f in dataclasses.fields(SubmissionRow)) == sorted(_columns(db, "submissions"))
