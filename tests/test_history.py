"""`kit history`: table, --json objects, --plot, --sync, and no heavy imports.

History is generic: it runs on `chain_workspace`, each toy pack in turn (the ledger rows carry its slug, its
kit.toml names it); only the pairing of a sandbox score with pack 1's local score is pack 1's own (at the end)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import FakeClient
from helpers import run_kit_fresh

from kit.chain.history import format_table, history, plot, show, sync_submissions
from kit.cli import run
from kit.errors import InputError
from kit.kaggle.results import Submission
from kit.ledger import Ledger

# Formatting and plotting read ledger rows alone: one toy pack proves them; the CLI (kit.toml picks the competition)
# and the sync run on both.
ONE_PACK = pytest.mark.parametrize("chain_pack", ["toy-echo"], indirect=True)


@pytest.fixture()
def comp(chain_workspace) -> str:
    """The workspace's competition: the toy pack kit.toml names."""
    return chain_workspace.slug


@pytest.fixture()
def ledger_rows(comp) -> dict[str, int]:
    with Ledger() as led:
        ids = {
            "old": led.add_submission(comp, "complete", kernel_ref="u/k", kernel_version=1, template="fewshot",
                                      public_score=0.58, private_score=0.57, local_score=0.55, adapter_version=1,
                                      git_sha="abc1234def", git_dirty=False, parameters={"template": "fewshot"}),
            "failed": led.add_submission(comp, "kernel_error", kernel_ref="u/k", kernel_version=2, template="best",
                                         error="kernel u/k v2 ended ERROR: CUDA out of memory\ntail..."),
            "best": led.add_submission(comp, "complete", kernel_ref="u/k", kernel_version=3, template="best",
                                       public_score=0.63, local_score=0.60, adapter_version=2, git_sha="fff0000aaa",
                                       git_dirty=True, submission_ref=7),
            "sandbox": led.add_submission(comp, "complete", sandbox=True, public_score=0.99, template="mean"),
            # another competition's row in the same ledger: never in this workspace's history
            "elsewhere": led.add_submission("another-comp", "complete", public_score=0.9, template="best"),
        }
        led.update_submission(ids["old"], created_at=1_700_000_000.0)
    return ids


def test_json_objects_in_both_orders(comp, ledger_rows, capsys):
    assert run(["history", "--json"]) == 0
    objs = json.loads(capsys.readouterr().out)
    assert [o["id"] for o in objs] == [ledger_rows[k] for k in ("best", "failed", "old")]  # never the sandbox
    assert all(o["type"] == "submission" for o in objs)
    first = objs[0]
    for key in ("status", "public_score", "private_score", "local_score", "kernel_version", "template",
                "adapter_version", "git_sha", "time", "error"):
        assert key in first
    assert first["git_dirty"] is True and first["sandbox"] is False and first["time"].endswith("Z")
    assert objs[2]["parameters"] == {"template": "fewshot"} and objs[2]["time"] == "2023-11-14T22:13:20Z"
    assert run(["history", "--sandbox", "--json"]) == 0
    assert [o["id"] for o in json.loads(capsys.readouterr().out)] == [ledger_rows["sandbox"]]
    best = history(comp, order="best", sandbox=False)
    assert [o["public_score"] for o in best] == [0.63, 0.58, None]
    assert [o["id"] for o in history(comp, sandbox=True)] == [ledger_rows["sandbox"]]


@ONE_PACK
def test_table_shows_scores_versions_and_errors(comp, ledger_rows):
    text = format_table(history(comp, order="best"))
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["#", "time", "(UTC)", "where"]
    assert "0.6300" in lines[2] and "v3" in lines[2] and "fff0000a*" in lines[2]
    assert "CUDA out of memory" in text and "tail..." not in text  # first line of the error only
    assert "no submissions" in format_table([])


@ONE_PACK
def test_plot_writes_png(comp, ledger_rows, tmp_path):
    path = plot(history(comp, sandbox=False), tmp_path / "p" / "scores.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
    with pytest.raises(InputError, match="no scored submissions"):
        plot([], tmp_path / "x.png")


def test_sync_fills_scores_adds_foreign_and_claims_tagged(chain_workspace, comp, ledger_rows):
    with Ledger() as led:
        tagged = led.add_submission(comp, "submitting", kernel_ref="u/k", kernel_version=4)
    subs = [
        Submission(7, "compLETE", "0.64", "0.62", "", "x", "2026-01-02T03:04:05.000Z"),  # Kaggle's text scores
        Submission(8, "SubmissionStatus.compLETE", "0.5", "", "", "made in the web UI", "2026-01-03T00:00:00Z"),
        Submission(9, "PENDING", None, None, "", "kit: template best [kit u/k/4]", "2026-01-04T00:00:00Z"),
    ]
    client = FakeClient(subs={s.ref: s for s in subs}, sandbox=False)
    assert sync_submissions(client, comp, sandbox=False) == {"added": 1, "updated": 2}
    assert sync_submissions(client, comp, sandbox=False) == {"added": 0, "updated": 0}  # idempotent
    with Ledger() as led:
        assert led.get_submission(ledger_rows["best"])["public_score"] == 0.64
        assert led.get_submission(tagged)["submission_ref"] == 9
        assert led.get_submission(tagged)["status"] == "pending"
        foreign = led.submission_by_ref(comp, 8, sandbox=False)
    assert foreign["origin"] == "kaggle" and foreign["public_score"] == 0.5 and foreign["private_score"] is None
    assert foreign["message"] == "made in the web UI"
    objs, notes = show(chain_workspace.config(), sync=True, client=client, plot_path=Path("h.png"))
    assert Path("h.png").is_file() and "0 added" in notes[0]


@ONE_PACK  # a fresh interpreter: one pack is enough
def test_plain_history_does_not_import_heavy_modules(chain_workspace, ledger_rows, tmp_path, monkeypatch):
    chain_workspace.entry_point_for_children(tmp_path / "site", monkeypatch)
    out, heavy = run_kit_fresh(["history"])
    assert out.returncode == 0, out.stderr
    assert heavy == [] and "0.6300" in out.stdout


def test_m004_adds_origin_and_kernel_dir_columns(tmp_path):
    comp = "a-competition"
    with Ledger(tmp_path / "l.db") as led:
        cols = {r[1] for r in led.db.execute("PRAGMA table_info(submissions)")}
        assert {"origin", "kernel_dir", "submission_file"} <= cols
        row = led.add_submission(comp, "starting", kernel_hash="h")
        assert led.get_submission(row)["origin"] == "kit"  # rows made before m004 read as the kit's own
        assert [r["id"] for r in led.open_submissions(comp, sandbox=False, kernel_hash="h")] == [row]
        led.update_submission(row, status="refused")
        assert led.open_submissions(comp, sandbox=False) == []


def test_plain_history_with_only_sandbox_rows_lists_them_as_sandbox_rows(comp, capsys):
    """No real submission yet (the demo's only): plain `kit history` shows the sandbox rows and says whose they are,
    rather than "no submissions recorded yet"."""
    with Ledger() as led:
        sid = led.add_submission(comp, "complete", sandbox=True, public_score=0.0684, private_score=0.08,
                                 template="best")
    assert run(["history", "--submissions"]) == 0
    out, err = capsys.readouterr()
    assert "no submissions recorded" not in out
    assert out.splitlines()[0] == "submissions (sandbox emulator, not Kaggle)" and "0.0684" in out
    assert "no Kaggle submissions recorded: listing the 1 sandbox submission(s)" in err
    assert run(["history", "--json", "--submissions"]) == 0
    assert [(o["id"], o["sandbox"]) for o in json.loads(capsys.readouterr().out)] == [(sid, True)]
    with Ledger() as led:  # once a real one exists, plain history is Kaggle's alone again
        led.add_submission(comp, "complete", public_score=0.61)
    assert run(["history", "--submissions"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "submissions (Kaggle)" and "0.0684" not in out and "0.6100" in out


@ONE_PACK
def test_the_plot_says_when_its_scores_are_the_sandboxs(comp, ledger_rows):
    import matplotlib.pyplot as plt

    from kit.chain.history import figure

    for sandbox, where in ((True, "sandbox emulator, not Kaggle"), (False, "Kaggle")):
        fig = figure(history(comp, sandbox=sandbox))
        over_time, scatter = fig.axes
        assert over_time.get_title().endswith(f"({where})") and scatter.get_ylabel() == f"public score ({where})"
        assert f"public score ({where})" in [t.get_text() for t in over_time.get_legend().get_texts()]
        plt.close(fig)


@pytest.mark.slow  # loads the proxy embedder
def test_sandbox_scores_are_computed_like_the_local_score_they_are_paired_with(tmp_path):
    """History pairs a sandbox public score with a local score: both must be the same computation, or the sandbox
    ranks recipes differently (with the full string, the proxy punished the lucrarea suffix that `best` carries)."""
    from kit.packs.prompt_recovery.competition import EMULATED
    from kit.packs.prompt_recovery.pack import PACK
    from kit.packs.prompt_recovery.templates import DEFAULT_MEAN_PROMPT, LUCRAREA_SUFFIX
    from kit.tables import read_rows, write_rows

    labels = read_rows(EMULATED.data_dir / "test_labels.csv")
    rows = [{"id": r["id"], "rewrite_prompt": (r["rewrite_prompt"] if n % 2 else DEFAULT_MEAN_PROMPT) + LUCRAREA_SUFFIX}
            for n, r in enumerate(labels)]  # what `best` writes: candidates + mean prompt + suffix
    sandbox = EMULATED.score(write_rows(tmp_path / "all.csv", rows, ("id", "rewrite_prompt")))
    for part in ("public", "private"):
        mine = [r for r in rows if EMULATED.is_public(r["id"]) == (part == "public")]
        local = PACK.score(write_rows(tmp_path / f"{part}.csv", mine, ("id", "rewrite_prompt")),
                           EMULATED.data_dir / "test_labels.csv")
        # the same rows embedded in other batches (bf16 on this CPU): equal to well under the suffix's effect
        assert local["suffix_removed"] and sandbox[part] == pytest.approx(local["mean"], abs=1e-3)
        assert local["full_string"]["mean"] < local["mean"] - 0.05  # what full strings under the proxy gave
