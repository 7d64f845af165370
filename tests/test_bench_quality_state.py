"""scripts/bench_quality.py --state: a state saved for more rows serves a shorter --rows run read-only (how `kit
compare` on a `run-local --rows 24` pair is checked against the bench without regenerating candidates)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bench_quality.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_quality", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _state(path: Path, n: int) -> dict:
    state = {"ids": [f"r{i}" for i in range(n)], "seconds": {"prime 1": 40.0, "rescore": 8.0},
             "first": [[f"f{i}"] for i in range(n)], "greedy": [[f"g{i}"] for i in range(n)],
             "sampled": [[] for _ in range(n)], "scores": [{f"g{i}": -1.0} for i in range(n)],
             "lora": {"name": "fewshot+lora", "predictions": [f"p{i}" for i in range(n)], "steps": 3}}
    path.write_text(json.dumps(state), encoding="utf-8")
    return state


def test_a_longer_state_serves_its_first_rows_and_is_never_written_back(bench, tmp_path, capsys):
    path = tmp_path / "state.json"
    _state(path, 4)
    before = path.read_bytes()
    cut = bench._load_state(str(path), [{"id": "r0"}, {"id": "r1"}])
    assert cut["ids"] == ["r0", "r1"] and cut["prefix_of"] == 4
    assert cut["greedy"] == [["g0"], ["g1"]] and cut["lora"]["predictions"] == ["p0", "p1"]
    assert cut["seconds"] == {"prime 1": 20.0, "rescore": 4.0}  # scaled to the rows served
    assert "its first 2 of 4 rows" in capsys.readouterr().out
    bench._save_state(str(path), cut)
    assert path.read_bytes() == before


def test_a_state_for_other_rows_is_refused(bench, tmp_path):
    path = tmp_path / "state.json"
    _state(path, 4)
    with pytest.raises(SystemExit, match="saved for other rows"):
        bench._load_state(str(path), [{"id": "r1"}, {"id": "r0"}])
