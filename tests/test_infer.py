"""Engine (batching, OOM back-off, adapters), predict_rows (breadth-first, guard, writer), worker sharding.

Sampling (Engine.sample) is tests/test_sampling.py."""

from __future__ import annotations

import contextlib
import csv
import json
import time
from pathlib import Path

import pytest

from kit.errors import InputError, MissingDependencyError
from kit.kernel.guard import TimeGuard
from kit.llm import prefix_cache
from kit.llm.engine import Engine
from kit.llm.loading import dtype_kwargs, pick_dtype
from kit.llm.sampling import SamplingConfig
from kit.llm.workers import load_engine
from kit.packs.prompt_recovery import kernel
from kit.packs.prompt_recovery.predict import predict_rows
from kit.packs.prompt_recovery.samples import sample_data_dir
from kit.packs.prompt_recovery.templates import get_template

WORDS = "the quick brown fox jumps over a lazy dog while the text is rewritten as a pirate shanty".split()


@pytest.fixture(scope="module")
def engine(tiny_model) -> Engine:
    return Engine(tiny_model)


@pytest.fixture(scope="module")
def prompts(engine) -> list[str]:
    # Different lengths on purpose, so batches need left padding.
    texts = [" ".join(WORDS[: 3 + (5 * k) % len(WORDS)]) for k in range(7)]
    return [engine.tokenizer.apply_chat_template([{"role": "user", "content": t}], tokenize=False)
            + " The request was: Improve this" for t in texts]


@pytest.fixture(scope="module")
def test_rows() -> list[dict[str, str]]:
    return kernel.load_rows(sample_data_dir(), limit=6)


@pytest.fixture(scope="module")
def adapter(tiny_model, tmp_path_factory) -> Path:
    """A random (non-zero) LoRA adapter made with peft directly."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(str(tiny_model))
    cfg = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    out = tmp_path_factory.mktemp("adapter")
    get_peft_model(base, cfg).save_pretrained(str(out))
    return out


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_batched_equals_one_at_a_time_in_input_order(engine, prompts):
    batched = engine.generate(prompts, max_new_tokens=10, batch_size=4)
    single = [engine.generate([p], max_new_tokens=10, batch_size=1)[0] for p in prompts]
    assert batched == single
    assert all(isinstance(t, str) for t in batched) and len(set(batched)) > 1
    assert not any("[INST]" in t for t in batched)  # new tokens only, not the prompt


@pytest.fixture(scope="module")
def fewshot_prompts(engine) -> list[str]:
    """8 sample rows in the fewshot template: a long shared few-shot prefix, then each row's own part (two batches
    of four, and the chunks predict_rows cuts from them)."""
    tpl = get_template("fewshot")
    rows = kernel.load_rows(sample_data_dir(), limit=8)
    return [tpl.render_prompt(engine.tokenizer, r["original_text"], r["rewritten_text"], prime=tpl.primes[0],
                              max_field_tokens=64) for r in rows]


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_shared_prefix_cache_gives_the_uncached_outputs(tiny_model, engine, fewshot_prompts):
    plain = Engine(tiny_model, prefix_cache=False)
    expected = plain.generate(fewshot_prompts, max_new_tokens=8, batch_size=4)
    assert plain.prefix_tokens_reused == 0 and len(set(expected)) > 1
    engine.prefix_tokens_reused, engine._prefix = 0, None
    assert engine.generate(fewshot_prompts, max_new_tokens=8, batch_size=4) == expected
    ids = [engine.tokenizer(p, add_special_tokens=False)["input_ids"] for p in fewshot_prompts]
    shared = len(engine._prefix[0])
    assert shared >= 500 and all(x[:shared] == ids[0][:shared] for x in ids)  # the few-shot conversation
    assert engine.prefix_tokens_reused == shared * len(fewshot_prompts)
    cache = engine._prefix[1]
    again = engine.generate(fewshot_prompts[4:8], max_new_tokens=8, batch_size=2)  # predict_rows' chunk calls
    assert again == expected[4:8] and engine._prefix[1] is cache  # same prefix: the cache is reused, not rebuilt
    reused = engine.prefix_tokens_reused
    assert engine.generate(fewshot_prompts[5:6], max_new_tokens=8, batch_size=1) == expected[5:6]  # a batch of one
    assert engine.prefix_tokens_reused == reused + shared and engine._prefix[1] is cache
    assert cache.get_seq_length() == shared  # generate() grew copies, never the kept cache


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_prefix_cache_falls_back_when_it_cannot_be_built(tiny_model, fewshot_prompts, monkeypatch, caplog):
    broken = Engine(tiny_model)

    def fail(model, prefix):
        raise TypeError("no cache API here")

    with monkeypatch.context() as patched:  # only this part: the cache builds again below
        patched.setattr(prefix_cache, "build", fail)
        first = broken.generate(fewshot_prompts[:4], max_new_tokens=6, batch_size=4)
        assert broken.prefix_tokens_reused == 0 and broken._prefix_broken
        assert "shared-prefix cache unavailable" in caplog.text
        assert first == Engine(tiny_model, prefix_cache=False).generate(fewshot_prompts[:4], max_new_tokens=6,
                                                                        batch_size=4)
    # A generate() that rejects the given cache: that batch is redone without it, and later ones skip it.
    refusing = Engine(tiny_model)
    real, calls = refusing.model.generate, []

    def strict(**kwargs):
        calls.append("cache" in kwargs)
        if "cache" in kwargs:
            raise ValueError("cannot continue a cache here")
        return real(**kwargs)

    monkeypatch.setattr(refusing.model, "generate", strict)
    assert refusing.generate(fewshot_prompts[:4], max_new_tokens=6, batch_size=2) == first
    assert calls == [True, False, False] and refusing._prefix_broken and refusing.prefix_tokens_reused == 0


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_out_of_memory_halves_the_batch_and_keeps_results(engine, prompts, monkeypatch):
    prompts = prompts[:4]
    expected = engine.generate(prompts, max_new_tokens=4, batch_size=8)
    real = engine._generate_batch
    sizes = []

    def flaky(ids, max_new_tokens):
        sizes.append(len(ids))
        if len(ids) > 2:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(ids, max_new_tokens)

    monkeypatch.setattr(engine, "_generate_batch", flaky)
    try:
        assert engine.generate(prompts, max_new_tokens=4, batch_size=8) == expected
        assert sizes == [4, 2, 2] and engine.max_batch == 2  # halved once, kept for the rest
    finally:
        engine.max_batch = None


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_merged_adapter_equals_unmerged(tiny_model, adapter, prompts, fewshot_prompts, engine):
    merged = Engine(tiny_model, adapter, merge=True)
    unmerged = Engine(tiny_model, adapter, merge=False)
    assert type(unmerged.model).__name__.startswith("Peft") and not type(merged.model).__name__.startswith("Peft")
    out = merged.generate(prompts, max_new_tokens=8, batch_size=4)
    assert out == unmerged.generate(prompts, max_new_tokens=8, batch_size=4)
    # The shared-prefix cache must come from the adapted model itself (a base-model cache changes the answers).
    few = fewshot_prompts[:4]
    plain = Engine(tiny_model, adapter, merge=False, prefix_cache=False).generate(few, max_new_tokens=8, batch_size=4)
    assert plain != engine.generate(few, max_new_tokens=8, batch_size=4)  # the adapter matters here
    assert unmerged.generate(few, max_new_tokens=8, batch_size=4) == plain
    assert merged.generate(few, max_new_tokens=8, batch_size=4) == plain
    shared = len(merged._prefix[0])  # the few-shot conversation, prefilled once and reused by all 4 rows
    assert shared >= 500 and unmerged._prefix[0] == merged._prefix[0]
    assert unmerged.prefix_tokens_reused == merged.prefix_tokens_reused == shared * len(few)


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_adapter_from_a_newer_peft_loads(tiny_model, adapter, prompts, tmp_path, caplog):
    """Keys a newer peft writes (unknown to the installed one) are dropped with a warning, not a crash."""
    import json
    import shutil

    newer = tmp_path / "newer-adapter"
    shutil.copytree(adapter, newer)
    cfg = json.loads((newer / "adapter_config.json").read_text())
    cfg.update({"future_option": None, "future_group_size": 16})
    (newer / "adapter_config.json").write_text(json.dumps(cfg))
    with caplog.at_level("WARNING"):
        out = Engine(tiny_model, newer, merge=True).generate(prompts[:2], max_new_tokens=6, batch_size=2)
    assert "future_group_size, future_option" in caplog.text
    assert out == Engine(tiny_model, adapter, merge=True).generate(prompts[:2], max_new_tokens=6, batch_size=2)


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_device_precision_and_clear_errors(tiny_model, tmp_path, monkeypatch):
    import torch
    import transformers

    assert pick_dtype("cpu") == torch.float32 and pick_dtype("cpu", "fp16") == torch.float16
    assert dtype_kwargs(torch.float16) == {"dtype": torch.float16}  # transformers 5.x here
    with pytest.raises(InputError):
        pick_dtype("cpu", "fp8")
    with pytest.raises(MissingDependencyError):
        Engine(tiny_model, device="cpu", load_in_4bit=True)
    with pytest.raises(InputError):
        Engine(tmp_path)
    monkeypatch.setattr(transformers, "__version__", "4.41.2")  # the Kaggle image's era
    assert dtype_kwargs(torch.float16) == {"torch_dtype": torch.float16}


def test_mean_template_needs_no_model(test_rows):
    tpl = get_template("mean")
    out = predict_rows(test_rows, tpl, None)
    assert out == [tpl.fallback(r["original_text"], r["rewritten_text"]) for r in test_rows]
    with pytest.raises(InputError):
        predict_rows(test_rows, get_template("fewshot"), None)


class RecordingEngine:
    """Stands in for Engine (ours): records which prime each prompt ends with; fixed answers."""

    def __init__(self, tokenizer, primes):
        self.tokenizer, self.primes, self.calls = tokenizer, primes, []

    def chunk_rows(self, batch_size):
        return batch_size

    def generate(self, prompts, *, max_new_tokens, batch_size, progress=False):
        self.calls.append([next(p for p in self.primes if q.endswith(p)) for q in prompts])
        return [" a pirate shanty about the sea." for _ in prompts]


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_predict_rows_is_breadth_first_and_writes_chunks(engine, test_rows, tmp_path):
    tpl = get_template("best")
    fake = RecordingEngine(engine.tokenizer, tpl.primes)
    writer = kernel.open_submission(test_rows, tpl, path=tmp_path / "submission.csv")
    out = predict_rows(test_rows, tpl, fake, batch_size=4, writer=writer)
    flat = [prime for call in fake.calls for prime in call]
    assert flat == [p for p in tpl.primes for _ in test_rows]  # prime 1 for all rows, then prime 2 ...
    assert all(len(call) <= 4 for call in fake.calls)
    with open(writer.path, newline="") as fh:
        written = {r["id"]: r["rewrite_prompt"] for r in csv.DictReader(fh)}
    assert written == {r["id"]: p for r, p in zip(test_rows, out, strict=True)}
    assert writer.writes == 1 + len(fake.calls)


@contextlib.contextmanager
def slowed(model, seconds_per_row: float):
    """The model made slow for the duration: every forward pass sleeps `seconds_per_row` per row of its batch
    (a forward pre-hook, removed after), as a model that big would compute. The Engine and guard under test run
    unchanged around it; nothing in the shipped code knows."""
    def wait(module, args, kwargs):
        batch = kwargs.get("input_ids")
        batch = kwargs.get("inputs_embeds") if batch is None else batch
        time.sleep(seconds_per_row * (batch.shape[0] if batch is not None else args[0].shape[0]))

    handle = model.register_forward_pre_hook(wait, with_kwargs=True)
    try:
        yield model
    finally:
        handle.remove()


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_budget_exhaustion_with_a_slow_model_leaves_fallbacks(engine, test_rows, tmp_path):
    # 1 s per row per forward pass, one pass per call (max_new_tokens=1): the one-row probe alone measures
    # >= 1 s/row, so the next chunk of 2 rows projects past the 3 s budget whatever the machine's speed.
    tpl = get_template("fewshot")
    guard = TimeGuard(budget_seconds=3, margin_seconds=0)
    writer = kernel.open_submission(test_rows, tpl, path=tmp_path / "submission.csv")
    with slowed(engine.model, 1.0):
        predict_rows(test_rows, tpl, engine, max_new_tokens=1, batch_size=2, max_field_tokens=64, guard=guard,
                     writer=writer)
    report = kernel.finish(guard, writer, tpl, path=tmp_path / "timing_report.json")
    assert 1.0 <= guard.elapsed() < 6
    assert report["deadline_hit"] and report["rows_per_pass"] == [1]  # the probe row, then nothing started
    assert report["unreached_rows"] == len(test_rows) - 1 and report["fallback_rows"] >= len(test_rows) - 1
    assert json.loads((tmp_path / "timing_report.json").read_text())["rows"] == len(test_rows)
    with open(writer.path, newline="") as fh:
        written = list(csv.DictReader(fh))
    assert [r["id"] for r in written] == [r["id"] for r in test_rows]
    assert all(r["rewrite_prompt"].strip() for r in written)


@pytest.mark.slow
@pytest.mark.long  # two worker processes each loading the model: about 35 s
def test_two_cpu_workers_match_one(tiny_model, engine, prompts):
    expected = engine.generate(prompts, max_new_tokens=8, batch_size=2)
    sampling = SamplingConfig(temperature=1.0, n=2, max_new_tokens=6, seed=4)
    sampled = engine.sample(prompts, sampling, batch_size=4)
    with load_engine(tiny_model, workers=2, device="cpu") as pool:
        assert pool.workers == 2 and pool.chunk_rows(2) == 4
        assert pool.generate(prompts, max_new_tokens=8, batch_size=2) == expected
        assert pool.sample(prompts, sampling, batch_size=4) == sampled  # seeds follow prompts, not workers
