"""More candidates for re-scoring (greedy, sampled, the mean prompt; deduplicated) and `kit tune`, which picks the
mix, keep and assembly on training rows without ever opening the test labels."""

from __future__ import annotations

import dataclasses
import shutil
import sys
from pathlib import Path

import pytest

from kit.errors import ConfigError
from kit.kernel.guard import TimeGuard
from kit.packs.prompt_recovery.candidates import candidate_key, candidate_pool, ranked
from kit.packs.prompt_recovery.templates import DEFAULT_MEAN_PROMPT, LUCRAREA_SUFFIX, get_template
from kit.packs.prompt_recovery.tuning import Choice, Tuning, apply_tuning, options, submissions

ROW = {"id": "r1", "original_text": "The cat sat.", "rewritten_text": "Arr, the cat be sittin'."}


def test_pool_keeps_greedy_then_sampled_then_mean_each_prompt_once():
    greedy = ["Rewrite this text as a pirate.", None, "Make this text funny."]
    sampled = ["rewrite  this text as a PIRATE", "", "Turn this text into a poem!", "Make this text funny."]
    pool = candidate_pool(greedy, sampled, [DEFAULT_MEAN_PROMPT])
    assert pool == ["Rewrite this text as a pirate.", "Make this text funny.", "Turn this text into a poem!",
                    DEFAULT_MEAN_PROMPT]
    assert candidate_key(" Make  this text FUNNY. ") == candidate_key("make this text funny")
    assert candidate_pool([None, " ", ""]) == []


def test_ranking_is_stable_for_ties_as_the_rescorer_ranks():
    assert ranked(["a b c", "d e f", "g h i"], {"a b c": -2.0, "d e f": -1.0, "g h i": -2.0}) == [
        "d e f", "a b c", "g h i"]


def test_concat_never_repeats_the_mean_prompt_it_appends():
    out = get_template("rescore").assemble(["Make this text funny.", "Improve the text to this"], "a", "b",
                                           mean_prompt="Improve the text to this.")
    assert out == "Make this text funny. Improve the text to this." + LUCRAREA_SUFFIX


def test_rescoring_templates_rank_sampled_candidates_and_the_mean_prompt_by_default():
    for name in ("rescore", "rescore-single", "rescore-tuned"):
        tpl = get_template(name)
        assert tpl.rescore and tpl.samples > 0 and tpl.mean_candidate and len(tpl.primes) == 3
    assert get_template("best").samples == 0 and not get_template("best").mean_candidate


def test_tuning_applies_per_template_and_travels_as_sorted_json():
    tuning = Tuning(Choice("single", 2, 4, True, 1), Choice("concat", 3, 0, False, 2), "concat")
    text = tuning.to_text()
    assert text.index('"concat"') < text.index('"picked"') < text.index('"single"')  # sorted keys
    assert Tuning.from_text(text) == tuning and Tuning.from_text("") is None
    tuned = apply_tuning(get_template("rescore-tuned"), text)
    assert (tuned.assembler, len(tuned.primes), tuned.samples, tuned.mean_candidate, tuned.rescore_keep) == (
        "concat", 3, 0, False, 2)
    single = apply_tuning(get_template("rescore-single"), tuning)  # keeps its own assembler, takes that one's mix
    assert (single.assembler, len(single.primes), single.samples, single.mean_candidate) == ("single", 2, 4, True)
    assert apply_tuning(get_template("best"), tuning) == get_template("best")
    with pytest.raises(ConfigError, match="tuning is not kit tune's JSON"):
        apply_tuning(get_template("rescore"), '{"picked": "concat"}')


def test_a_malformed_tuning_parameter_fails_before_any_kernel_runs():
    from kit.packs.prompt_recovery.params import InferParams

    with pytest.raises(ConfigError, match="tuning"):
        InferParams(template="rescore", tuning="{not json")
    InferParams(template="rescore-tuned", tuning=Tuning(Choice("single", 1, 0, True, 1),
                                                        Choice("concat", 1, 0, True, 0), "single").to_text())


def test_submissions_filter_one_ranking_to_each_mix():
    """The tuner's per-option strings: the pool of the mix, ranked by the shared scores, kept and assembled."""
    greedy = [["Rewrite this text as a pirate.", "Make this text funny.", None]]
    sampled = [["Turn this text into a sea shanty.", "Rewrite this text as a pirate."]]
    scores = [{"Rewrite this text as a pirate.": -5.0, "Make this text funny.": -9.0,
               "Turn this text into a sea shanty.": -1.0, DEFAULT_MEAN_PROMPT: -3.0}]
    base = get_template("rescore-tuned")
    one = submissions(Choice("single", 2, 0, False, 1), base, [ROW], greedy, sampled, scores, DEFAULT_MEAN_PROMPT)
    assert one == ["Rewrite this text as a pirate."]
    with_samples = submissions(Choice("single", 2, 1, True, 1), base, [ROW], greedy, sampled, scores,
                               DEFAULT_MEAN_PROMPT)
    assert with_samples == ["Turn this text into a sea shanty."]
    mean_wins = submissions(Choice("single", 1, 0, True, 1), base, [ROW], greedy, sampled, scores, DEFAULT_MEAN_PROMPT)
    assert mean_wins == [DEFAULT_MEAN_PROMPT]
    two = submissions(Choice("concat", 2, 2, False, 2), base, [ROW], greedy, sampled, scores, DEFAULT_MEAN_PROMPT)
    assert two == ["Turn this text into a sea shanty. Rewrite this text as a pirate. " + DEFAULT_MEAN_PROMPT
                   + LUCRAREA_SUFFIX]
    assert len(options(3, 4)) == 3 * 3 * 2 * 5
    # tuning `rescore` (a concat template) still scores its single options as single
    assert submissions(Choice("single", 2, 0, False, 1), get_template("rescore"), [ROW], greedy, sampled, scores,
                       DEFAULT_MEAN_PROMPT) == one


@pytest.mark.slow
def test_sampled_candidates_follow_the_greedy_ones_and_repeat_for_a_seed(tiny_model):
    from kit.llm.engine import Engine
    from kit.packs.prompt_recovery.kernel import load_rows
    from kit.packs.prompt_recovery.predict import generate_candidates
    from kit.packs.prompt_recovery.samples import sample_data_dir

    rows = load_rows(sample_data_dir(), limit=2)
    engine = Engine(tiny_model)
    # the tiny model writes noise: a low bar for the cleaner lets its sentences through as candidates
    tpl = dataclasses.replace(get_template("rescore"), primes=("Rewrite this text",), samples=3,
                              sample_prime="Make this text")
    opts = {"max_new_tokens": 6, "batch_size": 4, "max_field_tokens": 32, "mean_prompt": None, "writer": None,
            "progress": False}
    guard = TimeGuard(10**9, 0)
    first = generate_candidates(rows, tpl, engine, guard=guard, **opts)
    again = generate_candidates(rows, tpl, engine, guard=TimeGuard(10**9, 0), **opts)
    assert [len(c) for c in first] == [4, 4] and first == again
    assert guard.phases["sample"].done_per_pass == [2]  # one sampling pass over both rows, after the greedy one
    assert any(c and c.startswith("Make this text") for cands in first for c in cands[1:])


@pytest.fixture()
def audited_labels(tmp_path):
    """A copy of the mini-competition whose test labels file is watched: every open of it is recorded."""
    from kit.packs.prompt_recovery.samples import mini_competition_dir

    data = tmp_path / "mini"
    shutil.copytree(mini_competition_dir(), data)
    labels = (data / "test_labels.csv").resolve()
    opened: list[str] = []

    def hook(event: str, args: tuple) -> None:
        if event == "open" and args and isinstance(args[0], (str, bytes, Path)):
            path = Path(args[0].decode() if isinstance(args[0], bytes) else args[0])
            if path.name == labels.name and path.resolve() == labels:
                opened.append(str(path))

    _HOOKS.append(hook)
    try:
        yield data, opened
    finally:
        _HOOKS.remove(hook)


_HOOKS: list = []


def _dispatch(event: str, args: tuple) -> None:
    for hook in list(_HOOKS):
        hook(event, args)


sys.addaudithook(_dispatch)  # audit hooks cannot be removed: one dispatcher, fixtures add and remove theirs


def test_the_audit_hook_sees_the_labels_file_opened(audited_labels):
    """The watch works: reading the labels, as scoring a test run does, is seen (else the next test proves nothing)."""
    from kit.tables import read_rows

    data, opened = audited_labels
    read_rows(data / "test_labels.csv")
    assert opened


@pytest.mark.slow
def test_kit_tune_picks_on_training_rows_records_why_and_never_opens_the_test_labels(audited_labels, tiny_model):
    import json

    from click.testing import CliRunner

    from kit.cli import cli
    from kit.config import load_config
    from kit.kernel.params import from_config
    from kit.packs.prompt_recovery.params import InferParams
    from kit.packs.prompt_recovery.tuning import TuneReport

    data, opened = audited_labels
    runner = CliRunner()
    assert runner.invoke(cli, ["init", "--competition", "llm-prompt-recovery"]).exit_code == 0
    result = runner.invoke(cli, ["tune", "--data", str(data), "--rows", "3", "--max-samples", "2", "--model",
                                 str(tiny_model), "--out", "tuned", "--json"])
    assert result.exit_code == 0, result.output
    assert opened == []  # the whole tuning step, from reading rows to scoring, never opened the test labels
    report = TuneReport.load(Path("tuned"))
    assert report.data == str(data / "train.csv") and len(report.ids) == 3
    assert len(report.options) == len(options(3, 2)) and all("score" in o and "vs_best" in o for o in report.options)
    top = max(o["score"] for o in report.options)
    assert report.best_option()["score"] == pytest.approx(top, abs=1e-9)  # the pick is the best option
    text = json.loads(Path("tuned/kit_tuning.json").read_text())
    assert list(text) == sorted(text)
    # the pick went into kit.toml, and from there into the kernel's parameters
    cfg = load_config()
    assert Tuning.from_text(cfg.infer.tuning) == report.tuning
    params = from_config(InferParams, cfg, template="rescore-tuned")
    assert params.tuning == report.tuning.to_text()


@pytest.mark.slow
def test_run_local_submits_the_tuned_recipe_and_its_run_config_records_the_tuning(tmp_path, tiny_model):
    """kit.toml's [infer] tuning reaches the kernel: `rescore-tuned` runs the tuned mix (no sampling phase when the
    pick has no samples) and run_config.json keeps the tuning among the parameters and in the resolved kit.toml."""
    import json

    from click.testing import CliRunner

    from kit.cli import cli
    from kit.config import set_value
    from kit.packs.prompt_recovery.samples import sample_data_dir

    runner = CliRunner()
    assert runner.invoke(cli, ["init", "--competition", "llm-prompt-recovery"]).exit_code == 0
    tuning = Tuning(Choice("single", 2, 0, True, 1), Choice("concat", 1, 0, False, 0), "single")
    set_value(Path("kit.toml"), "infer", "tuning", tuning.to_text())
    out = tmp_path / "rl"
    result = runner.invoke(cli, ["run-local", "--template", "rescore-tuned", "--rows", "2",
                                 "--set", "infer.max_new_tokens=6",
                                 "--model", str(tiny_model), "--source", f"rewriter={tiny_model}",
                                 "--data", str(sample_data_dir()), "--budget", "900", "--out", str(out)])
    assert result.exit_code == 0, result.output
    config = json.loads((out / "run_config.json").read_text())
    assert config["params"]["tuning"] == tuning.to_text() == config["kit_config"]["infer"]["tuning"]
    report = json.loads((out / "timing_report.json").read_text())
    assert report["primes"] == list(get_template("best").primes[:2]) and report["rows_per_pass"] == [2, 2]
    assert "sample" not in report["phases"] and "rescore" in report["phases"]


def test_kit_init_and_the_demo_recommend_the_recipe_the_bench_measured():
    """One recommendation, with its figure and command: `kit init` writes it beside [infer] template and it is the
    pack's advice, the line `kit demo` ends with; a pack without measurements advises nothing."""
    from kit.config import CompetitionConfig, KitConfig, render_toml
    from kit.packs.aimo.pack import PACK as AIMO
    from kit.packs.prompt_recovery.pack import PACK

    assert PACK.advice.startswith("Recommended: rescore-tuned") and "+0.070 [+0.052, +0.087] over best" in PACK.advice
    assert "scripts/bench_quality.py --rows 100" in PACK.advice
    assert f"# Template name from `kit templates`. {PACK.advice}" in render_toml(
        KitConfig(competition=CompetitionConfig(slug=PACK.slug)))
    assert AIMO.advice == ""
