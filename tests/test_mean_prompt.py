"""Mean-prompt optimizer: search properties on a tiny deterministic embedder, plus one real MiniLM CLI run."""

from __future__ import annotations

import json
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from helpers import PROMPT_RECOVERY

from kit.errors import ConfigError, InputError
from kit.packs.prompt_recovery import mean_prompt as mp
from kit.packs.prompt_recovery import mean_prompt_inputs as mpi

pytestmark = pytest.mark.usefixtures("prompt_recovery_workspace")  # the tests run in a pack-1 workspace

PROMPTS = [
    "Rewrite this text in a cheerful tone.",
    "Rewrite this story as a pirate would tell it.",
    "Make this email more formal.",
    "Turn this paragraph into a haiku.",
    "Rewrite this essay in the style of Shakespeare.",
    "Convert this text into a sea shanty.",
    "Make this letter shorter and more casual.",
    "Rewrite this text for a five-year-old.",
    "Improve the writing style of this text.",
    "Turn this note into a formal letter.",
]
VOCAB = ["rewrite", "text", "this", "tone", "style", "formal", "casual", "story", "poem", "the", "make", "into",
         "improve", "writing", "letter", "banana", "quantum", "zebra", "shorter", "pirate"]


class FakeEmbedder:
    """Bag of words: each lower-cased word has a fixed pseudo-random vector (seeded by its CRC); rows sum and
    normalise them around a shared offset so cosines are mostly positive. `delay` simulates a slow model."""

    def __init__(self, dim: int = 24, delay: float = 0.0) -> None:
        self.dim, self.delay, self.calls = dim, delay, 0

    def _word(self, word: str) -> np.ndarray:
        return np.random.default_rng(zlib.crc32(word.lower().encode())).standard_normal(self.dim)

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        rows = []
        for text in texts:
            vec = np.full(self.dim, 1.5) + sum((self._word(w) for w in mpi.words_of([text])), np.zeros(self.dim))
            rows.append(vec / np.linalg.norm(vec))
        return np.asarray(rows, dtype=np.float32)


@pytest.fixture(scope="module")
def targets() -> np.ndarray:
    return FakeEmbedder().encode(PROMPTS)


def _run(targets, seed=0, **kw):
    kw.setdefault("max_steps", 15)
    kw.setdefault("budget_s", 60.0)
    return mp.optimize(targets, FakeEmbedder().encode, VOCAB, init="please fix it", max_tokens=8, beam=3,
                       candidates=24, batch_size=16, seed=seed, **kw)


def test_score_never_decreases_and_is_exact(targets):
    res = _run(targets)
    assert res.steps == 15 and res.stopped == "max_steps"
    assert len(res.path_scores) == res.steps + 1 == len(res.path_texts)
    assert all(b >= a for a, b in zip(res.path_scores[:-1], res.path_scores[1:], strict=True))
    assert res.path_scores[-1] > res.path_scores[0]  # the junk start is improved on
    assert res.path_texts[0] == "please fix it"
    assert len(res.text.split()) <= 8
    # The reported score is the exact metric of the returned string, recomputed from scratch.
    assert res.score == pytest.approx(mp.score_strings([res.text], targets, FakeEmbedder().encode)[0], abs=1e-6)


def test_same_seed_same_string_and_seed_matters(targets):
    first, again = _run(targets, seed=3), _run(targets, seed=3)
    assert (first.text, first.path_scores) == (again.text, again.path_scores)
    others = {tuple(_run(targets, seed=s, max_steps=3).path_texts) for s in (1, 2, 4, 5)}
    assert len(others) > 1  # the seed really drives the proposals


def test_budget_is_respected_with_a_slow_embedder(targets):
    slow = FakeEmbedder(delay=0.05)
    start = time.monotonic()
    res = mp.optimize(targets, slow.encode, VOCAB * 3 + [f"w{i}" for i in range(200)], init="x", budget_s=1.0,
                      batch_size=8, candidates=16, patience=10**6)
    elapsed = time.monotonic() - start
    assert res.stopped == "budget"
    assert elapsed <= 1.0 + 0.3, elapsed
    assert res.seconds <= 1.0 + 0.3
    assert slow.calls > 5  # it did work until the budget, not stop at once


def test_empty_init_starts_from_best_single_word(targets):
    res = mp.optimize(targets, FakeEmbedder().encode, VOCAB, init="", max_steps=5, candidates=16, max_tokens=4)
    singles = mp.score_strings(VOCAB, targets, FakeEmbedder().encode)
    assert res.path_texts[0] == VOCAB[int(np.argmax(singles))]
    assert res.score >= max(singles)


def test_bad_arguments(targets):
    with pytest.raises(InputError):
        mp.optimize(targets, FakeEmbedder().encode, ["  "], max_steps=1)
    with pytest.raises(ConfigError):
        mp.optimize(targets, FakeEmbedder().encode, VOCAB, beam=0)
    with pytest.raises(ConfigError):
        mpi.split_prompts(PROMPTS, holdout=1.5)


def test_split_is_seeded_disjoint_and_deduplicated():
    prompts = PROMPTS + PROMPTS[:3]
    train, held = mpi.split_prompts(prompts, 0.2, seed=7)
    assert (train, held) == mpi.split_prompts(prompts, 0.2, seed=7)
    assert not set(train) & set(held)
    assert sorted(train + held) == sorted(set(PROMPTS))
    assert len(held) == 2


def test_vocabulary_helpers(tmp_path):
    wordpiece = ["[PAD]", "[CLS]", "the", "##ing", "rewrite", "a", "toneful", "x9y", "caf\u00e9", "style", "the"]
    assert mpi.tokenizer_words(wordpiece, limit=10) == ["the", "rewrite", "toneful", "style"]
    assert mpi.tokenizer_words(wordpiece, limit=2) == ["the", "rewrite"]
    pieces = ["<pad>", "</s>", "\u2581the", "ing", "\u2581lucrarea", "\u2581a", "\u2581Rewrite"]
    assert mpi.tokenizer_words(pieces) == ["the", "lucrarea", "Rewrite"]
    assert mpi.words_of(["Rewrite this, please!", "a sea-shanty; Rewrite"]) == ["Rewrite", "this", "please", "a",
                                                                              "sea-shanty"]
    assert mpi.words_of(["a b a", "b c", "b"], min_count=2) == ["b"]  # counted once per text
    # Prompt words shared by 2+ prompts first (single-prompt words overfit), then tokenizer words.
    assert mpi.auto_vocab(["Make it formal", "Make it a poem"], wordpiece, limit=2) == ["Make", "it", "the", "rewrite"]
    vocab_file = tmp_path / "v.txt"
    vocab_file.write_text("# words\ntone\n\nstyle\ntone\n", encoding="utf-8")
    assert mpi.read_vocab(vocab_file) == ["tone", "style"]


def test_read_prompts_csv_and_text(tmp_path):
    csv_path = tmp_path / "p.csv"
    csv_path.write_text('id,rewrite_prompt\n1,"Make it, formal"\n2,  \n3,Turn into a poem\n', encoding="utf-8")
    assert mpi.read_prompts(csv_path) == ["Make it, formal", "Turn into a poem"]
    txt = tmp_path / "p.txt"
    txt.write_text("one prompt\n\n two \n", encoding="utf-8")
    assert mpi.read_prompts(txt) == ["one prompt", "two"]
    (tmp_path / "bad.csv").write_text("id,prompt\n1,x\n", encoding="utf-8")
    with pytest.raises(InputError, match="rewrite_prompt"):
        mpi.read_prompts(tmp_path / "bad.csv")
    with pytest.raises(InputError, match="not found"):
        mpi.read_prompts(tmp_path / "missing.txt")


def test_save_without_kit_toml_is_a_config_error(tmp_path, capsys, monkeypatch):
    from kit import pack
    from kit.cli import run
    from kit.packs.prompt_recovery.pack import PACK

    Path("kit.toml").unlink()  # no workspace file: the one pack installed serves, and --save has nowhere to write
    monkeypatch.setattr(pack, "available", lambda: {PROMPT_RECOVERY: PACK})
    prompts = tmp_path / "p.txt"
    prompts.write_text("\n".join(PROMPTS), encoding="utf-8")
    assert run(["mean-prompt", "--prompts", str(prompts), "--save"]) == ConfigError.exit_code
    assert "--save needs a kit.toml to write into" in capsys.readouterr().err


@pytest.mark.slow  # loads the proxy embedder
def test_cli_real_minilm_save_round_trip(tmp_path, capsys):
    """One end-to-end run in-process with the bundled MiniLM: short budget, JSON report, --out and --save."""
    from kit.cli import run
    from kit.config import init_workspace, load_config

    init_workspace(tmp_path / "work", force=True, competition=PROMPT_RECOVERY)  # the test's cwd
    prompts = tmp_path / "p.txt"
    prompts.write_text("\n".join(PROMPTS), encoding="utf-8")
    vocab = tmp_path / "v.txt"
    vocab.write_text("\n".join(VOCAB), encoding="utf-8")
    out = tmp_path / "mp.txt"
    argv = ["mean-prompt", "--prompts", str(prompts), "--vocab", str(vocab), "--budget", "3", "--max-tokens", "10",
            "--init", "please fix it", "--out", str(out), "--save", "--json"]
    assert run(argv) == 0
    data = json.loads(capsys.readouterr().out)
    rows = {r["name"]: r for r in data["rows"]}
    assert set(rows) == {"result", "init", "reference (0.63 LB)"}
    assert rows["result"]["train"] >= rows["init"]["train"]
    assert data["result"]["seconds"] <= 3 + 1.5
    assert data["train_size"] == 8 and data["holdout_size"] == 2
    assert "bundled" in data["embedder"]
    assert out.read_text(encoding="utf-8").strip() == data["text"]
    saved = json.loads((tmp_path / "mp.txt.json").read_text(encoding="utf-8"))
    assert saved["config"]["mean_prompt"]["budget_seconds"] == 3
    assert load_config().section("mean_prompt").text == data["text"]


def test_progress_bar_shows_the_current_best(targets, capsys):
    res = mp.optimize(targets, FakeEmbedder().encode, VOCAB, init="fix it", max_steps=2, candidates=8,
                      progress=True)
    err = capsys.readouterr().err
    assert f"best={res.score:.4f}" in err
