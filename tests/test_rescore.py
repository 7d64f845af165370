"""Re-scoring candidates with the rewriter, the guard's re-scoring phase, the adapter's trained format and the
suffix-free proxy score."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest
from helpers import pr_config

from kit.kernel.guard import TimeGuard
from kit.packs.prompt_recovery import kernel
from kit.packs.prompt_recovery.rescore import Rescorer, rescore_phase
from kit.packs.prompt_recovery.templates import (
    DEFAULT_MEAN_PROMPT,
    LUCRAREA_SUFFIX,
    get_template,
    strip_suffix,
    with_prime,
)

pytestmark = pytest.mark.usefixtures("prompt_recovery_workspace")  # the tests run in a pack-1 workspace


def _load(path: Path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(str(path)), AutoTokenizer.from_pretrained(str(path))


def _submission(path: Path) -> dict[str, str]:
    with open(path, newline="") as fh:
        return {r["id"]: r["rewrite_prompt"] for r in csv.DictReader(fh)}


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_batched_cached_loglik_equals_one_plain_forward_pass(tiny_model):
    import torch

    model, tok = _load(tiny_model)
    rescorer = Rescorer(model, tok, batch_size=3)
    pairs = [("Rewrite this text as a poem.", "The cat sat on the mat.", "A cat / on a mat / sat."),
             ("Make it formal.", "hey, come over later ok", "Kindly visit me later today."),
             ("Summarize this text.", "Long text about the sea and the ships that sail it every day.", "Sea, ships."),
             ("Turn this into a limerick about a dog.", "Dogs bark.", "There once was a dog who would bark")]
    batched = rescorer.loglik(pairs)
    for (cand, orig, rewritten), value in zip(pairs, batched, strict=True):
        prompt, target = rescorer.encode(cand, orig, rewritten)
        with torch.no_grad():
            logp = torch.log_softmax(model(torch.tensor([prompt + target])).logits[0].float(), -1)
        expected = sum(float(logp[len(prompt) - 1 + k, t]) for k, t in enumerate(target))
        assert value == pytest.approx(expected, abs=1e-3)
    assert rescorer.forward_passes == 2 and rescorer.sequences == 4  # batch 3: two passes for four sequences


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_rewriter_ranks_the_true_prompt_first_on_rows_it_made(instruct_model):
    """Rows the embedded model rewrote (the mini-competition): the true prompt among 3 others ranks first."""
    from kit.packs.prompt_recovery import samples
    from kit.tables import read_rows

    rows = read_rows(samples.mini_competition_dir() / "train.csv")[:8]
    prompts = [r["rewrite_prompt"] for r in rows]
    rng = random.Random(0)
    candidates = []
    for row in rows:
        others = rng.sample([p for p in prompts if p != row["rewrite_prompt"]], 2)
        candidates.append(rng.sample(others + [row["rewrite_prompt"]], 3))
    rescorer = Rescorer(*_load(instruct_model), max_field_tokens=48, batch_size=8)
    ranked = rescorer.rank(rows, candidates)
    first = sum(r[0][0] == row["rewrite_prompt"] for r, row in zip(ranked, rows, strict=True))
    print(f"true prompt ranked first on {first}/{len(rows)} rows (chance: 1/3)")
    assert first / len(rows) >= 0.6
    # the chat head every sequence shares ran once, then served all 8 x 3 sequences from the cache
    assert rescorer.sequences == 24 and rescorer.shared_tokens_reused == len(rescorer._head[0]) * 24


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_guard_keeps_a_complete_submission_through_the_rescoring_phase(tiny_model, tmp_path):
    """A deadline hit in the re-scoring phase: the file is complete at every step; rows not reached keep their
    `best` assembly, reached rows get the ranked one."""
    from kit.packs.prompt_recovery.samples import sample_data_dir

    rows = kernel.load_rows(sample_data_dir(), limit=5)
    candidates = [["Rewrite this text as a pirate would.", "Make this text formal.", f"Turn this into poem {i}."]
                  for i in range(len(rows))]
    tpl = get_template("rescore")
    now = [0.0]
    guard = TimeGuard(budget_seconds=100, margin_seconds=0, clock=lambda: now[0])
    writer = kernel.open_submission(rows, tpl, path=tmp_path / "submission.csv")
    best = {r["id"]: tpl.assemble(c, r["original_text"], r["rewritten_text"]) for r, c in zip(rows, candidates,
                                                                                             strict=True)}
    writer.update(best)  # what the generation phase left
    seen: list[dict[str, str]] = []

    class Slow(Rescorer):
        def rank(self, chunk, cands, *args, **kwargs):
            seen.append(_submission(writer.path))  # readable and complete while the phase runs
            now[0] += 40.0  # each chunk costs 40 s of the 100 s budget
            return super().rank(chunk, cands, *args, **kwargs)

    ranked = rescore_phase(rows, candidates, tpl, Slow(*_load(tiny_model)), guard=guard, writer=writer, chunk_rows=2)
    final = _submission(writer.path)
    assert all(list(s) == [r["id"] for r in rows] and all(v.strip() for v in s.values()) for s in seen + [final])
    report = guard.report(rows=len(rows), fallback_rows=writer.fallback_rows, projected_rows=len(rows))
    # the 1-row probe took 40 s, so the next 2-row chunk (80 s) would pass the deadline at 100 s
    assert report["phases"]["rescore"]["items_per_pass"] == [1] and report["deadline_hit"]
    reached = rows[0]["id"]
    assert final[reached] == tpl.assemble(ranked[0], rows[0]["original_text"], rows[0]["rewritten_text"])
    assert sorted(ranked[0]) == sorted(candidates[0] + [DEFAULT_MEAN_PROMPT])  # the mean prompt is ranked too
    assert all(final[r["id"]] == best[r["id"]] for r in rows[1:])
    assert ranked[1:] == candidates[1:]


def test_an_adapter_predicts_in_the_format_and_prime_it_was_trained_with(tmp_path):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    assert kernel.template_for("best", adapter) == get_template("best")  # no record: unchanged
    (adapter / "kit_adapter.json").write_text(json.dumps({"template": "zeroshot", "prime": ""}))
    assert kernel.template_for("best", adapter) == get_template("best")  # no `pack`: the generic record only
    (adapter / "kit_adapter.json").write_text(json.dumps({"pack": "llm-prompt-recovery", "template": "zeroshot",
                                                          "prime": ""}))
    tpl = kernel.template_for("best", adapter)
    assert tpl.primes == ("",) and tpl.examples == () and tpl.assembler == "concat"
    assert kernel.template_for("mean", adapter) == get_template("mean")  # no primes: still loads no model
    rescoring = kernel.template_for("rescore", adapter)  # the adapter's answer plus candidates left to rank
    assert rescoring.primes == ("",) + get_template("rescore").primes and rescoring.rescore
    assert with_prime("... The request was: ", "") == "... The request was:"
    assert with_prime("... The request was:", "Rewrite") == "... The request was: Rewrite"


@pytest.mark.slow  # loads the proxy embedder
def test_proxy_scores_drop_the_suffix_and_report_the_full_string(tmp_path):
    from kit.packs.prompt_recovery.metric import load_embedder, score_texts

    embedder = load_embedder()
    assert not embedder.is_sentence_t5
    labels = ["Rewrite this text as a pirate shanty.", "Make this text more formal."]
    preds = ["Rewrite the text like a pirate song." + LUCRAREA_SUFFIX, "Make it formal and polite." + LUCRAREA_SUFFIX]
    report = score_texts(preds, labels, embedder)
    plain = score_texts([strip_suffix(p) for p in preds], labels, embedder)
    assert report.suffix_removed and report.mean == pytest.approx(plain.mean, abs=2e-3)  # bf16 batches differ
    assert report.full_string["mean"] < report.mean  # the suffix lowers the proxy score
    kept = score_texts(preds, labels, embedder, keep_suffix=True)
    assert not kept.suffix_removed and kept.mean == pytest.approx(report.full_string["mean"], abs=2e-3)


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_a_t5_encoder_embedder_is_sentence_t5_whatever_its_folder_is_called(tmp_path, tiny_model):
    """Read from the model's config, not its name: a (random, tiny) T5 encoder in a folder named like MiniLM."""
    import shutil

    from sentence_transformers import SentenceTransformer, models
    from transformers import T5Config, T5EncoderModel

    from kit.packs.prompt_recovery.metric import load_embedder, score_texts

    src = tmp_path / "t5src"
    config = T5Config(vocab_size=2048, d_model=32, d_kv=8, d_ff=64, num_layers=1, num_heads=4)
    T5EncoderModel(config).save_pretrained(src)
    for f in Path(tiny_model).glob("tokenizer*"):
        shutil.copy(f, src / f.name)
    folder = tmp_path / "all-MiniLM-L6-v2"
    word = models.Transformer(str(src))
    SentenceTransformer(modules=[word, models.Pooling(word.get_word_embedding_dimension())]).save(str(folder))
    embedder = load_embedder(folder, precision="fp32")
    assert embedder.is_sentence_t5
    report = score_texts(["Make it formal." + LUCRAREA_SUFFIX], ["Make this text formal."], embedder)
    assert not report.suffix_removed and report.full_string is None


@pytest.mark.slow
def test_run_local_rescores_in_a_later_phase_of_the_kernel(tmp_path, tiny_model):
    """The kernel end to end: the tiny model generates and (as --source rewriter=...) re-scores; one timing report."""
    from click.testing import CliRunner

    from kit.cli import cli
    from kit.packs.prompt_recovery.samples import sample_data_dir

    out = tmp_path / "rl"
    result = CliRunner().invoke(cli, ["run-local", "--template", "rescore", "--rows", "3",
                                      "--set", "infer.max_new_tokens=8",
                                      "--model", str(tiny_model), "--source", f"rewriter={tiny_model}",
                                      "--data", str(sample_data_dir()),
                                      "--budget", "900", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "timing_report.json").read_text())
    assert report["template"] == "rescore" and report["rows_per_pass"] == [3, 3, 3]
    assert "rescore" in report["phases"] and not report["deadline_hit"]
    assert len(_submission(out / "submission.csv")) == 3


def test_build_mounts_the_rewriter_model_for_rescoring_templates(tmp_path):
    from kit.chain.build import build_submission
    from kit.errors import ConfigError
    from kit.ledger import Ledger

    with Ledger() as led:  # the kernel installs the kit from the wheels dataset: a build needs it pushed
        led.add_dataset_version("wheels", "alice/kit-offline-wheels", 1, "w1")
    gemma = "google/gemma/transformers/7b-it/3"
    cfg = pr_config({"kaggle": {"username": "alice", "base_model": "alice/mistral-7b-it-v02",
                                "model_sources": {"rewriter": gemma}}})
    info = build_submission(cfg, template="rescore", out=tmp_path / "k", sandbox=False)
    assert gemma in info["metadata"]["model_sources"] and info["models"] == {"rewriter": gemma}
    assert info["parameters"]["sources"]["rewriter"] == gemma and info["parameters"]["template"] == "rescore"
    plain = build_submission(cfg, template="best", out=tmp_path / "b", sandbox=False)
    assert plain["metadata"]["model_sources"] == [] and "rewriter" not in plain["parameters"]["sources"]
    bare = pr_config({"kaggle": {"username": "alice", "base_model": "alice/mistral-7b-it-v02"}})
    with pytest.raises(ConfigError, match=r"\[kaggle\] model_sources.rewriter is empty"):
        build_submission(bare, template="rescore-single", out=tmp_path / "c", sandbox=False)


def test_a_failing_rescore_phase_leaves_the_generated_submission_and_the_kernel_running(tmp_path, capsys):
    """On Kaggle an exception in the re-scoring phase would fail the whole submission: the kernel's phase stops
    with one line instead, and every row keeps the string the generation phase wrote."""
    rows = [{"id": str(i), "original_text": f"Text {i}.", "rewritten_text": f"Rewrite {i}."} for i in range(3)]
    tpl = get_template("rescore")
    writer = kernel.open_submission(rows, tpl, path=tmp_path / "submission.csv")
    before = (tmp_path / "submission.csv").read_text()
    kernel.rescore(rows, [["Make it short.", "Make it long."]] * 3, tpl, tmp_path / "no-such-model",
                   guard=TimeGuard(600, 0), writer=writer, mean_prompt=None, batch_size=2, max_field_tokens=None)
    assert "re-scoring stopped (InputError" in capsys.readouterr().out
    assert (tmp_path / "submission.csv").read_text() == before
