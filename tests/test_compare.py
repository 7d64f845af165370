"""`kit compare`: paired differences between local runs recorded in the ledger, on the toy pack (fast: runs
recorded by run-local's own recorder over real files; slow: real `kit run-local` kernels) and on prompt recovery.

Each figure is recomputed here by hand from the runs' submission files and the labels."""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("prompt_recovery_workspace")  # the tests run in a pack-1 workspace

TOY = Path(__file__).resolve().parent / "toy_pack"


@pytest.fixture
def toy(monkeypatch):
    """The toy-echo pack, registered in this process (`kit compare` finds a run's pack by its recorded slug)."""
    from kit import pack

    monkeypatch.syspath_prepend(str(TOY))
    sys.modules.pop("toy_echo", None)
    import toy_echo

    monkeypatch.setitem(pack._PACKS, toy_echo.SLUG, toy_echo.PACK)
    (Path.cwd() / "kit.toml").write_text('[competition]\nslug = "toy-echo"\n', encoding="utf-8")
    yield toy_echo
    sys.modules.pop("toy_echo", None)


def _record(toy_echo, out: Path, echoes: dict[str, str], *, data: Path | None = None, template: str = "t") -> int:
    """A run-local run of the toy pack as run-local leaves it: submission.csv and run_config.json in its folder,
    scored by the pack and recorded by run-local's own recorder (only the kernel is left out)."""
    from kit.artefacts import RunConfig
    from kit.chain.experiments import record_run_local
    from kit.chain.run_local import RunLocalResult
    from kit.config import load_config
    from kit.tables import write_rows

    data = data or toy_echo.DATA
    out.mkdir(parents=True)
    submission = write_rows(out / "submission.csv", [{"key": k, "echo": v} for k, v in echoes.items()],
                            toy_echo.COLUMNS)
    params = {"template": template, "sources": {"competition": toy_echo.SLUG}, "input_dir": "/kaggle/input"}
    config = RunConfig(params=params, data_dir=str(data), layout="2025", kit_config=load_config().to_dict()).save(out)
    labels = data / "test_labels.csv"
    result = RunLocalResult(
        out_dir=str(out), submission=str(submission), notebook=str(out / "echo.ipynb"), report_path="",
        config_path=str(config), rows=len(echoes), fallback_rows=0, rows_per_second=len(echoes) / 2.0,
        seconds_per_row=2.0 / len(echoes), projected_seconds=None, kaggle_usable_seconds=30600.0, fits_budget=None,
        hidden_rows=10, deadline_hit=False, wall_seconds=2.0, score=toy_echo.PACK.score(submission, labels))
    files = [labels, *sorted(p for p in data.iterdir() if p.is_file() and p != labels)]
    return record_run_local(result, template=template, params=params, model=None, adapter=None, data_files=files,
                            key=template)


def _words(toy_echo) -> dict[str, str]:
    from kit.tables import read_rows

    return {r["key"]: r["word"] for r in read_rows(toy_echo.DATA / "test.csv")}


def _by_hand(run: Path, base: Path, labels: Path) -> tuple[float, float, tuple[int, int, int]]:
    """(mean difference, 95% half-width, (wins, losses, ties)) of run - base, from the files alone."""
    from kit.tables import read_rows

    answer = {r["key"]: r["echo"] for r in read_rows(labels)}
    hits = [{r["key"]: float(r["echo"] == answer[r["key"]]) for r in read_rows(p)} for p in (run, base)]
    diffs = [hits[0][k] - hits[1][k] for k in hits[1]]
    mean = sum(diffs) / len(diffs)
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / len(diffs))
    return mean, 1.96 * sd / math.sqrt(len(diffs)), (sum(d > 0 for d in diffs), sum(d < 0 for d in diffs),
                                                     sum(d == 0 for d in diffs))


def test_paired_difference_is_the_mean_and_normal_ci_of_the_per_row_differences():
    import numpy as np

    from kit.chain.compare import outcomes, paired_difference

    d = paired_difference([1.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 0.0])  # differences 1, 0, 0, 1: sd 0.5
    assert (d.mean, d.ci_low, d.ci_high, d.n) == (0.5, pytest.approx(0.5 - 0.49), pytest.approx(0.5 + 0.49), 4)
    rng = np.random.default_rng(0)  # the bench's former numpy formula gives the same figure
    a, b = rng.random(1400), rng.random(1400)
    half = 1.96 * float((a - b).std()) / math.sqrt(1400)
    d = paired_difference(list(a), list(b))
    assert (d.mean, d.ci_high - d.mean) == (pytest.approx(float((a - b).mean()), abs=1e-15), pytest.approx(half))
    assert outcomes([0.5 + 1e-7, 0.5 - 1e-7, 0.6, 0.3], [0.5, 0.5, 0.5, 0.5]) == (1, 1, 2)  # within 1e-6: ties
    with pytest.raises(ValueError, match="same rows"):
        paired_difference([1.0], [1.0, 2.0])


def test_compare_pairs_recorded_runs_as_computed_by_hand_from_their_submissions(toy, tmp_path):
    from kit.chain.compare import compare, describe

    words = _words(toy)
    copy = _record(toy, tmp_path / "run-local" / "a-copy", words, template="copy")
    upper = _record(toy, tmp_path / "run-local" / "b-upper", {k: w.upper() for k, w in words.items()},
                    template="upper")
    # a third run: right on k01-k05 only, and wrong on k02 where copy was right
    mixed = _record(toy, tmp_path / "run-local" / "c-mixed",
                    {k: (w.upper() if k <= "k05" and k != "k02" else w.lower()) for k, w in words.items()},
                    template="mixed")
    result = compare([str(copy), f"#{upper}", "c-mixed"])  # by id, by #id, by folder name
    labels = toy.DATA / "test_labels.csv"
    assert result.baseline.id == copy and result.ids == [f"k{i:02d}" for i in range(1, 11)]
    for versus, folder in zip(result.others, ("b-upper", "c-mixed"), strict=True):
        mean, half, counts = _by_hand(tmp_path / "run-local" / folder / "submission.csv",
                                      tmp_path / "run-local" / "a-copy" / "submission.csv", labels)
        assert versus.difference.mean == pytest.approx(mean)
        assert (versus.difference.ci_low, versus.difference.ci_high) == (pytest.approx(mean - half),
                                                                          pytest.approx(mean + half))
        assert (versus.wins, versus.losses, versus.ties) == counts
    assert [v.run.id for v in result.others] == [upper, mixed]
    assert (result.others[0].wins, result.others[0].ties) == (7, 3)  # copy is right on k02, k07, k09 only
    assert (result.others[1].wins, result.others[1].losses) == (4, 3)  # k01, k03-k05 won; k02, k07, k09 lost
    assert result.baseline.rows_per_second == 5.0  # from the ledger
    text = describe(result)
    assert f"baseline #{copy} copy: score 0.3000 over 10 rows" in text
    assert f"#{upper} upper  1.0000  +0.7000  [+0.4160, +0.9840]  7     0       3     5.00" in text


def test_runs_on_other_rows_are_refused_with_one_line_naming_both(toy, tmp_path, capsys):
    from kit.cli import run
    from kit.errors import InputError

    words = _words(toy)
    base = _record(toy, tmp_path / "base", words)
    other_data = tmp_path / "other-data"
    shutil.copytree(toy.DATA, other_data)
    (other_data / "test.csv").write_text((toy.DATA / "test.csv").read_text().replace("apple", "pear"))
    moved = _record(toy, tmp_path / "moved", words, data=other_data)
    assert run(["compare", str(base), str(moved)]) == InputError.exit_code
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith(f"error: runs #{base} and #{moved} are on different rows: their data differ (#{base}: ")
    assert str(other_data) in err

    first4 = _record(toy, tmp_path / "rows4", dict(list(words.items())[:4]))  # what `kit run-local --rows 4` leaves
    assert run(["compare", str(base), str(first4)]) == InputError.exit_code
    err = capsys.readouterr().err.strip()
    assert err == (f"error: runs #{base} and #{first4} are on different rows: #{base} has 10, #{first4} 4, 6 not "
                   f"shared (first only in #{base}: 'k05'; a --rows run covers only the first rows)")


def test_unknown_runs_train_validations_and_stale_scores_are_named(toy, tmp_path, capsys):
    from kit.chain.experiments import record_training
    from kit.cli import run
    from kit.errors import InputError

    words = _words(toy)
    base = _record(toy, tmp_path / "base", words)
    other = _record(toy, tmp_path / "other", {k: w.upper() for k, w in words.items()})
    for parent in ("x", "y"):  # two workspaces with a run folder of the same name
        _record(toy, tmp_path / parent / "twin", words)
    trained = record_training({"knobs": {"out": str(tmp_path / "adapter")}}, score={"mean": 0.1, "n": 4})
    for args, message in (
        ([str(base), "99"], "no kit run-local run #99 in the ledger (`kit history --local` lists them)"),
        ([str(base), "nowhere"], "no kit run-local run recorded in folder 'nowhere'"),
        ([str(base), f"#{trained}"], f"#{trained} is a kit train validation, not a kit run-local run"),
        ([str(base), str(tmp_path / "base")], f"run #{base} is named twice"),
        ([str(base), "twin"], "'twin' names 2 run folders"),
        ([str(base)], None),
    ):
        code = run(["compare", *args])
        err = capsys.readouterr().err
        if message is None:  # one run: click's usage error
            assert code == 2 and "at least two runs" in err
            continue
        assert code == InputError.exit_code and message in err and len(err.strip().splitlines()) == 1
    # the submission edited after the run: its scores no longer give the recorded score, so it is not paired
    (tmp_path / "other" / "submission.csv").write_text("key,echo\n" + "".join(f"{k},{w}\n" for k, w in words.items()))
    assert run(["compare", str(base), str(other)]) == InputError.exit_code
    err = capsys.readouterr().err
    assert f"run #{other}: its per-row scores average 0.300000 now, the ledger recorded 1.000000" in err
    shutil.rmtree(tmp_path / "other")
    assert run(["compare", str(base), str(other)]) == InputError.exit_code
    assert f"run #{other}: {tmp_path / 'other' / 'run_config.json'}: file not found" in capsys.readouterr().err


def test_a_pack_without_per_row_scores_is_refused(toy, tmp_path, monkeypatch, capsys):
    from kit import pack
    from kit.cli import run
    from kit.errors import ConfigError

    class Whole(toy.ToyEcho):  # a pack that keeps PackDefaults' row_scores
        slug = "toy-whole"
        row_scores = pack.PackDefaults.row_scores

    monkeypatch.setitem(pack._PACKS, Whole.slug, Whole())
    (Path.cwd() / "kit.toml").write_text('[competition]\nslug = "toy-whole"\n', encoding="utf-8")
    words = _words(toy)
    a, b = _record(toy, tmp_path / "a", words), _record(toy, tmp_path / "b", words)
    assert run(["compare", str(a), str(b)]) == ConfigError.exit_code
    assert "the toy-whole pack offers no per-row scores" in capsys.readouterr().err


def test_json_and_plot(toy, tmp_path, capsys):
    from kit.cli import run

    words = _words(toy)
    a = _record(toy, tmp_path / "a", words, template="copy")
    b = _record(toy, tmp_path / "b", {k: w.upper() for k, w in words.items()}, template="upper")
    figure = tmp_path / "figs" / "compare.png"
    assert run(["compare", str(a), str(b), "--json", "--plot", str(figure)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert sorted(data) == ["baseline", "data_hash", "data_ref", "ids", "others", "plot", "statistic",
                            "tie_epsilon"]
    assert data["plot"] == str(figure) and figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert figure.stat().st_size > 10_000  # drawn, not an empty canvas
    [versus] = data["others"]
    assert sorted(versus) == ["difference", "losses", "run", "ties", "wins"]
    assert sorted(versus["difference"]) == ["ci_high", "ci_low", "mean", "n"]
    assert versus["difference"]["mean"] == pytest.approx(0.7) and versus["difference"]["n"] == 10
    assert sorted(data["baseline"]) == ["id", "out_dir", "row_scores", "rows", "rows_per_second", "score",
                                        "template"]
    assert data["baseline"]["row_scores"] == [0.0, 1.0, 0, 0, 0, 0, 1.0, 0, 1.0, 0]  # aligned with data["ids"]
    assert versus["run"]["row_scores"] == [1.0] * 10 and data["tie_epsilon"] == 1e-6


def test_the_pack_row_scores_average_to_its_score(toy, tmp_path):
    words = _words(toy)
    (tmp_path / "s.csv").write_text("key,echo\n" + "".join(f"{k},{w.upper() if k < 'k04' else w}\n"
                                                           for k, w in words.items()))
    labels = toy.DATA / "test_labels.csv"
    scores = toy.PACK.row_scores(tmp_path / "s.csv", labels)
    assert sum(scores.values()) / len(scores) == toy.PACK.score(tmp_path / "s.csv", labels)["mean"] == 0.5


@pytest.mark.slow
def test_compare_two_real_run_local_runs(toy, tmp_path, capsys):
    """Two `kit run-local` kernels of the toy pack, compared through the CLI by their folders."""
    from kit.cli import run

    for template in ("copy", "upper"):
        assert run(["run-local", "--template", template, "--out", str(tmp_path / template), "--json"]) == 0
    capsys.readouterr()
    assert run(["compare", str(tmp_path / "copy"), "upper", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    mean, half, counts = _by_hand(tmp_path / "upper" / "submission.csv", tmp_path / "copy" / "submission.csv",
                                  toy.DATA / "test_labels.csv")
    [versus] = data["others"]
    assert (data["baseline"]["template"], versus["run"]["template"]) == ("copy", "upper")
    assert versus["difference"]["mean"] == pytest.approx(mean) == pytest.approx(0.7)
    assert versus["difference"]["ci_high"] == pytest.approx(mean + half)
    assert (versus["wins"], versus["losses"], versus["ties"]) == counts


@pytest.mark.slow
def test_prompt_recovery_runs_compare_as_the_bench_pairs_them(tmp_path):
    """Two model-free `mean` runs of the first pack (two mean prompts) on the mini-competition: `kit compare`
    gives the figure scripts/bench_quality.py computes for the same rows (its per-row scores, its statistic)."""
    from kit.chain.compare import compare, paired_difference
    from kit.chain.run_local import run_local
    from kit.config import load_config
    from kit.packs.prompt_recovery.metric import load_embedder, score_texts
    from kit.packs.prompt_recovery.samples import mini_competition_dir
    from kit.tables import read_rows

    cfg = load_config()
    runs = []
    for name, text in (("plain", ""), ("tuned", "Rewrite this text to be more formal and concise")):
        tuned = cfg.updated(mean_prompt=dataclasses.replace(cfg.section("mean_prompt"), text=text))
        runs.append(run_local(tuned, template="mean", out=tmp_path / name))
    result = compare([str(r.experiment_id) for r in runs])
    truth = {r["id"]: r["rewrite_prompt"] for r in read_rows(mini_competition_dir() / "test_labels.csv")}
    embedder = load_embedder()  # the bench's way: score_texts over each recipe's strings, then the paired figure
    per_row = []
    for r in runs:
        preds = {row["id"]: row["rewrite_prompt"] for row in read_rows(r.submission)}
        per_row.append(score_texts([preds[i] for i in result.ids], [truth[i] for i in result.ids], embedder).per_row)
    bench = paired_difference(per_row[1], per_row[0])
    [versus] = result.others
    assert result.baseline.row_scores == pytest.approx(per_row[0], abs=1e-9)
    assert versus.difference.mean == pytest.approx(bench.mean, abs=1e-9)
    assert (versus.difference.ci_low, versus.difference.ci_high) == (pytest.approx(bench.ci_low, abs=1e-9),
                                                                      pytest.approx(bench.ci_high, abs=1e-9))
    assert versus.difference.n == len(truth) and versus.difference.mean != 0
