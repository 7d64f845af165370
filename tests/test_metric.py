"""The local metric: sharpened cosine on the bundled MiniLM proxy, host-like errors, `kit score`, `kit templates`."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from kit.cli import run
from kit.errors import ConfigError, InputError
from kit.packs.prompt_recovery.metric import (
    PROXY_NOTE,
    load_embedder,
    score,
    score_files,
    score_texts,
    sharpened_cosine,
)
from kit.packs.prompt_recovery.samples import sample_data_dir
from kit.packs.prompt_recovery.templates import get_template
from kit.tables import read_rows, write_rows

pytestmark = pytest.mark.usefixtures("prompt_recovery_workspace")  # the tests run in a pack-1 workspace


@pytest.fixture(scope="module")
def embedder():
    return load_embedder()


@pytest.fixture(scope="module")
def train_rows():
    return read_rows(sample_data_dir() / "train.csv", ["id", "original_text", "rewrite_prompt", "rewritten_text"])


@pytest.mark.slow  # loads the proxy embedder
def test_identical_predictions_score_one(embedder, train_rows):
    labels = [r["rewrite_prompt"] for r in train_rows[:40]]
    report = score_texts(labels, labels, embedder)
    assert report.n == 40
    assert report.mean == pytest.approx(1.0, abs=1e-5)
    assert report.ci_low == pytest.approx(1.0, abs=1e-4) and report.ci_high == pytest.approx(1.0, abs=1e-4)
    assert PROXY_NOTE in report.embedder


@pytest.mark.slow  # loads the proxy embedder
def test_mean_template_beats_original_text_and_trails_perfect(embedder, train_rows):
    train_rows = train_rows[::4]  # ~60 rows: embedding long original texts is the slow part
    ids = [r["id"] for r in train_rows]
    labels = {r["id"]: r["rewrite_prompt"] for r in train_rows}
    mean = get_template("mean")
    mean_preds = {r["id"]: mean.fallback(r["original_text"], r["rewritten_text"]) for r in train_rows}
    original_preds = {r["id"]: r["original_text"] for r in train_rows}
    mean_score = score(mean_preds, labels, embedder)
    original_score = score(original_preds, labels, embedder)
    assert mean_score.ids == ids
    assert original_score.mean < mean_score.mean < 0.99
    assert mean_score.ci_low < mean_score.mean < mean_score.ci_high


def test_sharpened_cosine_cubes_and_clips_negatives():
    a = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    b = np.array([[1.0, 0.0], [0.5, math.sqrt(0.75)], [-1.0, 0.0]])
    assert sharpened_cosine(a, b).tolist() == pytest.approx([1.0, 0.125, 0.0])


@pytest.mark.slow  # loads the proxy embedder
def test_embedder_is_loaded_once_and_rows_are_unit_length(embedder):
    again = load_embedder()
    assert again.model is embedder.model
    vecs = embedder.encode(["Rewrite this as a poem.", "Make it formal.", "Rewrite this as a poem."])
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vecs[0], vecs[2])
    assert embedder.encode([]).shape == (0, embedder.dimension)


@pytest.mark.parametrize(
    "preds, message",
    [
        ({"a": "Rewrite it.", "b": "  "}, r"1 blank or NaN prediction\(s\).*first ids: 'b'"),
        ({"a": float("nan"), "b": "Rewrite it."}, r"blank or NaN.*first ids: 'a'"),
        ({"a": "nan", "b": "None"}, r"2 blank or NaN.*'a', 'b'"),
        ({"a": "Rewrite it."}, r"missing 1 id\(s\) of the labels, first: 'b'"),
        ({"a": "x y z", "b": "x y z", "c": "x y z"}, r"1 id\(s\) not in the labels, first: 'c'"),
        ({"a": "x y z", "zz": "x y z"}, r"missing 1 id.*'b'; also 1 id\(s\) not in the labels, first: 'zz'"),
    ],
)
@pytest.mark.slow  # loads the proxy embedder
def test_bad_predictions_fail_like_the_host(embedder, preds, message):
    with pytest.raises(InputError, match=message):
        score(preds, {"a": "Rewrite this.", "b": "Make it formal."}, embedder)


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.slow  # loads the proxy embedder
def test_file_errors_name_the_problem(tmp_path):
    labels = _write(tmp_path / "labels.csv", "id,rewrite_prompt\n000aaa,Rewrite this.\n-1,Make it formal.\n")
    dupes = _write(tmp_path / "dupes.csv", "id,rewrite_prompt\n000aaa,x y z\n-1,x y z\n000aaa,x y z\n")
    with pytest.raises(InputError, match=r"1 duplicate id\(s\) in the predictions, first: '000aaa'"):
        score_files(dupes, labels)
    nocol = _write(tmp_path / "nocol.csv", "id,prompt\n000aaa,x\n")
    with pytest.raises(InputError, match=r"nocol.csv: missing column\(s\) rewrite_prompt"):
        score_files(nocol, labels)
    with pytest.raises(InputError, match="file not found"):
        score_files(tmp_path / "absent.csv", labels)
    blank_label = _write(tmp_path / "bl.csv", "id,rewrite_prompt\n000aaa,Rewrite this.\n-1,\n")
    with pytest.raises(InputError, match=r"1 blank label\(s\), first ids: '-1'"):
        score_files(labels, blank_label)
    with pytest.raises(InputError, match="embedder folder not found"):
        score_files(labels, labels, embedder_path=tmp_path / "no-model")


@pytest.mark.slow  # loads the proxy embedder
def test_kit_score_cli_with_multiline_fields_and_string_ids(tmp_path, capsys, embedder):
    preds = _write(tmp_path / "submission.csv",
                   'id,rewrite_prompt\n-1,"Rewrite this\nas a poem, please."\n000aaa,Make it formal.\n')
    labels = write_rows(tmp_path / "labels.csv", [
        {"id": "000aaa", "original_text": "hi,\n\"there\"", "rewrite_prompt": "Make it formal.", "rewritten_text": "x"},
        {"id": "-1", "original_text": "o", "rewrite_prompt": "Rewrite this\nas a poem, please.", "rewritten_text": "y"},
    ], ["id", "original_text", "rewrite_prompt", "rewritten_text"])
    per_row = tmp_path / "rows.csv"
    assert run(["score", str(preds), str(labels), "--json", "--per-row", str(per_row)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["n"] == 2 and data["mean"] == pytest.approx(1.0, abs=1e-5)
    assert PROXY_NOTE in data["embedder"]
    assert [r["id"] for r in read_rows(per_row, ["id", "score"])] == ["000aaa", "-1"]

    assert run(["score", str(preds), str(labels)]) == 0
    out = capsys.readouterr().out
    assert "score: 1.0000" in out and "95% CI" in out and "n: 2" in out and PROXY_NOTE in out

    bad = _write(tmp_path / "bad.csv", "id,rewrite_prompt\n-1,\n000aaa,Make it formal.\n")
    assert run(["score", str(bad), str(labels)]) == InputError.exit_code
    assert "blank or NaN prediction(s)" in capsys.readouterr().err


@pytest.mark.slow  # loads the proxy embedder
def test_host_tokenizer_reads_specials_literally_and_cuts_at_128():
    host = load_embedder(host_tokenizer=True)
    plain = load_embedder()
    tok = host.tokenizer
    sep = tok.sep_token
    ids = tok(f"hello {sep} world", add_special_tokens=False)["input_ids"]
    assert tok.sep_token_id not in ids  # the special-token string is text, not the special token
    text = [f"Rewrite this {sep} as a poem."]
    assert float(host.encode(text)[0] @ plain.encode(text)[0]) < 0.9999  # the model sees it that way too
    assert "[host tokenizer]" in host.label
    head = "word " * 150
    a, b = head + "about cats and dogs", head + "on quantum physics and the stars"
    va, vb = host.encode([a, b])
    assert float(va @ vb) == pytest.approx(1.0, abs=1e-5)  # identical first 128 tokens
    pa, pb = plain.encode([a, b])
    assert float(pa @ pb) < 0.9999  # the plain model sees the differing tail


@pytest.mark.slow  # loads the proxy embedder
def test_precision_choice_keeps_cosines_close(embedder):
    with pytest.raises(ConfigError, match="unknown embedder precision 'fp8'"):
        load_embedder(precision="fp8")
    exact = load_embedder(precision="fp32")
    assert "[bf16]" not in exact.label
    texts = ["Rewrite this as a poem.", "Make this email more formal and polite.", "Convert this into a sea shanty."]
    a, b = exact.encode(texts), embedder.encode(texts)
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-6)
    assert np.abs((a * b).sum(axis=1) - 1).max() < 2e-3
    assert np.abs(a @ a.T - b @ b.T).max() < 5e-3  # cross-text similarities agree too


def test_kit_templates_lists_names(capsys):
    assert run(["templates"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines()][:3] == ["mean", "fewshot", "best"]
    assert run(["templates", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert {"mean", "fewshot", "best"} <= {i["name"] for i in items}
