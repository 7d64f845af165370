"""`kit make-data`: seeded pairing, resumable output with a sidecar, and one-line errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit.cli import run
from kit.errors import ConfigError, InputError
from kit.packs.prompt_recovery.make_data import MakeDataConfig, make_data, row_id, seeded_pairs
from kit.packs.prompt_recovery.rewriter import REWRITER_FORMAT, render_rewriter_prompt, rewriter_messages
from kit.tables import read_rows

pytestmark = pytest.mark.usefixtures("prompt_recovery_workspace")  # the tests run in a pack-1 workspace

ORIGINALS = ["The bus is late again today.", "Our cat sleeps on the warm stove.", "Rain is expected all weekend.",
             "The shop sells fresh bread every morning."]
PROMPTS = ["Rewrite this text as a poem.", "Make this text sound angry.", "Turn this text into a tweet."]


def _inputs(tmp_path: Path) -> tuple[Path, Path]:
    originals, prompts = tmp_path / "originals.txt", tmp_path / "prompts.txt"
    originals.write_text("\n".join(ORIGINALS) + "\n")
    prompts.write_text("\n".join(PROMPTS) + "\n\n")  # trailing blank lines are not entries
    return originals, prompts


def test_seeded_pairing_is_deterministic_balanced_and_never_repeats_a_prompt_for_one_original():
    pairs = seeded_pairs(ORIGINALS, PROMPTS, per_original=2, seed=7)
    assert pairs == seeded_pairs(ORIGINALS, PROMPTS, per_original=2, seed=7)
    assert pairs != seeded_pairs(ORIGINALS, PROMPTS, per_original=2, seed=8)
    assert len(pairs) == 8
    for original in ORIGINALS:
        mine = [p for o, p in pairs if o == original]
        assert len(mine) == len(set(mine)) == 2
    uses = [sum(p == q for _, q in pairs) for p in PROMPTS]
    assert max(uses) - min(uses) <= 1  # a dealt deck: every prompt about equally often
    assert len(seeded_pairs(ORIGINALS[:1], PROMPTS, per_original=9, seed=0)) == len(PROMPTS)


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_the_rewriter_format_is_one_user_turn_for_any_chat_template(tiny_model, instruct_model):
    from transformers import AutoTokenizer

    assert rewriter_messages(" Make it short. ", "A text.\n") == [
        {"role": "user", "content": "Make it short.\n\nA text."}]
    for folder, head, tail in ((tiny_model, "<s>[INST] ", " [/INST]"),
                               (instruct_model, "<|im_start|>system\n", "<|im_end|>\n<|im_start|>assistant\n")):
        text = render_rewriter_prompt(AutoTokenizer.from_pretrained(folder), "Make it short.", "A text.")
        assert text.startswith(head) and text.endswith("Make it short.\n\nA text." + tail)


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_make_data_resumes_appending_only_missing_rows(tmp_path, tiny_model):
    originals, prompts = _inputs(tmp_path)
    out = tmp_path / "made" / "rows.csv"
    cfg = dict(originals=str(originals), prompts=str(prompts), out=str(out), model=str(tiny_model),
               per_original=2, seed=3, max_new_tokens=6, batch_size=4, chunk_rows=2)
    first = make_data(MakeDataConfig(**cfg, limit=3), progress=False)
    rows = read_rows(out)
    assert (first.pairs, first.already_done, first.made + first.empty) == (3, 0, 3) and len(rows) == first.made
    second = make_data(MakeDataConfig(**cfg), progress=False)
    assert (second.pairs, second.already_done) == (8, first.made)
    after = read_rows(out)
    assert after[:len(rows)] == rows  # earlier rows kept as they were, new ones appended
    expected = seeded_pairs(ORIGINALS, PROMPTS, 2, 3)
    assert {r["id"] for r in after} <= {row_id(o, p) for o, p in expected}
    assert all(r["rewritten_text"] for r in after) and list(after[0]) == [
        "id", "original_text", "rewrite_prompt", "rewritten_text"]
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["rewriter_format"] == REWRITER_FORMAT and sidecar["decoding"] == "greedy"
    assert sidecar["config"]["max_new_tokens"] == 6 and sidecar["rows"] == len(after)
    third = make_data(MakeDataConfig(**cfg), progress=False)  # nothing missing: no model is even loaded
    assert third.made == 0 and read_rows(out) == after


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_make_data_refuses_to_mix_rewriters(tmp_path, tiny_model):
    originals, prompts = _inputs(tmp_path)
    out = tmp_path / "rows.csv"
    cfg = dict(originals=str(originals), prompts=str(prompts), out=str(out), max_new_tokens=4)
    make_data(MakeDataConfig(**cfg, model=str(tiny_model), limit=1), progress=False)
    sidecar = json.loads(out.with_suffix(".json").read_text())
    out.with_suffix(".json").write_text(json.dumps({**sidecar, "model_id": "sha256:another"}))
    with pytest.raises(ConfigError, match="another rewriter"):
        make_data(MakeDataConfig(**cfg, model=str(tiny_model)), progress=False)


@pytest.mark.parametrize("case, message", [
    ("missing", "originals.txt: file not found"),
    ("empty", "prompts.txt: no rewrite_prompt entries"),
    ("blank", "prompts.txt: line 2 is blank"),
    ("model", "cannot load the model"),
])
@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_bad_input_is_one_line_exit_4_and_writes_nothing(tmp_path, capsys, case, message, tiny_model):
    originals, prompts = _inputs(tmp_path)
    model = tiny_model
    if case == "missing":
        originals.unlink()
    elif case == "empty":
        prompts.write_text("")
    elif case == "blank":
        prompts.write_text("Make it a poem.\n   \nMake it a tweet.\n")
    else:
        model = tmp_path / "broken-model"
        model.mkdir()
        (model / "config.json").write_text("{not json")
    out = tmp_path / "out.csv"
    code = run(["make-data", "--originals", str(originals), "--prompts", str(prompts), "--out", str(out),
                "--model", str(model), "--max-new-tokens", "2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == InputError.exit_code and len(err) == 1 and message in err[0], err
    assert not out.exists() and not out.with_suffix(".json").exists()


def test_pairs_or_originals_not_both(tmp_path, capsys):
    assert run(["make-data", "--pairs", "p.csv", "--originals", "o.txt"]) == ConfigError.exit_code
    assert run(["make-data"]) == ConfigError.exit_code


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_given_pairs_are_used_as_they_are(tmp_path, tiny_model):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("original_text,rewrite_prompt\nA short text.,Make it long.\nA short text.,Make it long.\n"
                     "Another text.,Make it rhyme.\n")
    result = make_data(MakeDataConfig(pairs=str(pairs), out=str(tmp_path / "o.csv"), model=str(tiny_model),
                                      max_new_tokens=3), progress=False)
    assert result.pairs == 2  # a repeated pair is one row
