"""Engine.sample: n sampled sequences per prompt from one prefill, reproducible for a seed, stop strings, top-p."""

from __future__ import annotations

import contextlib

import pytest

from kit.errors import InputError
from kit.llm.engine import Engine
from kit.llm.sampling import SamplingConfig, choose_tokens, generators

WORDS = "the quick brown fox jumps over a lazy dog while the text is rewritten as a pirate shanty".split()
HEAD = "Rewrite each text below in the voice the request names, keeping its facts. " * 3  # > 32 shared tokens


@pytest.fixture(scope="module")
def engine(tiny_model) -> Engine:
    return Engine(tiny_model)


@pytest.fixture(scope="module")
def prompts() -> list[str]:
    """Six prompts of different lengths (batches need left padding), no long shared start."""
    return [" ".join(WORDS[k:k + 2 + 3 * k]) + " ->" for k in range(6)]


@pytest.fixture(scope="module")
def shared_prompts() -> list[str]:
    """Five prompts that start with the same long head (the engine's shared-prefix cache serves it)."""
    return [HEAD + " ".join(WORDS[k:k + 1 + 2 * k]) + " ->" for k in range(5)]


@contextlib.contextmanager
def forward_shapes(model):
    """Records the (rows, length) of input_ids of every forward pass of `model` (a pre-hook, removed after)."""
    shapes: list[tuple[int, int]] = []

    def record(module, args, kwargs):
        ids = kwargs.get("input_ids")
        shapes.append(tuple((ids if ids is not None else args[0]).shape))

    handle = model.register_forward_pre_hook(record, with_kwargs=True)
    try:
        yield shapes
    finally:
        handle.remove()


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_temperature_zero_gives_the_greedy_outputs(engine, prompts, shared_prompts):
    """The sampling loop (own prefill, padding, positions, repeated cache) continues exactly as generate() does."""
    for batch in (prompts, shared_prompts):
        greedy = engine.generate(batch, max_new_tokens=10, batch_size=4)
        assert len(set(greedy)) > 1
        sampled = engine.sample(batch, SamplingConfig(temperature=0, n=2, max_new_tokens=10), batch_size=4)
        assert sampled == [[g, g] for g in greedy]


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_n_sequences_share_one_prefill_of_each_prompt(engine, shared_prompts):
    engine.reset_prefix_cache(True)
    cfg = SamplingConfig(temperature=1.0, top_p=0.9, n=3, max_new_tokens=6, seed=1)
    with forward_shapes(engine.model) as shapes:
        out = engine.sample(shared_prompts[:2], cfg, batch_size=6)
    assert [len(o) for o in out] == [3, 3]
    prefix = len(engine._prefix[0])
    ids = [engine.tokenizer(p, add_special_tokens=False)["input_ids"] for p in shared_prompts[:2]]
    tail = max(len(x) for x in ids) - prefix
    # the shared head once at batch 1, both prompts' own tails once (2 rows, not 6), then 6 rows a token a step
    assert shapes[0] == (1, prefix) and shapes[1] == (2, tail)
    assert shapes[2] == (6, 1) and len(shapes) == 2 + cfg.max_new_tokens - 1 and all(n == 1 for _, n in shapes[2:])
    assert engine.prefix_tokens_reused >= prefix * 2


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_a_fixed_seed_reproduces_the_samples_in_any_batch(engine, prompts):
    cfg = SamplingConfig(temperature=1.0, top_p=0.95, n=3, max_new_tokens=8, seed=7)
    first = engine.sample(prompts, cfg, batch_size=6)
    assert engine.sample(prompts, cfg, batch_size=6) == first  # re-run
    assert engine.sample(prompts, cfg, batch_size=1) == first  # other batches: the seed is per sequence
    assert engine.sample(prompts[::-1][:3], cfg, batch_size=3) == first[::-1][:3]  # other order, fewer prompts
    assert all(len(set(seqs)) > 1 for seqs in first)  # a prompt's n sequences are different draws
    other = engine.sample(prompts, SamplingConfig(temperature=1.0, top_p=0.95, n=3, max_new_tokens=8, seed=8),
                          batch_size=6)
    assert other != first


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_stop_strings_end_sequences_and_are_trimmed(engine, prompts):
    base = SamplingConfig(temperature=1.0, n=2, max_new_tokens=16, seed=3)
    with forward_shapes(engine.model) as full_shapes:
        full = engine.sample(prompts, base, batch_size=4)
    stop = ("e", "o")
    with forward_shapes(engine.model) as shapes:
        stopped = engine.sample(prompts, SamplingConfig(temperature=1.0, n=2, max_new_tokens=16, seed=3, stop=stop),
                                batch_size=4)
    for seqs, cut in zip(full, stopped, strict=True):
        for text, short in zip(seqs, cut, strict=True):
            at = [i for i in (text.find(s) for s in stop) if i >= 0]
            assert short == (text[:min(at)] if at else text)  # the same draws, cut before the first stop string
    trimmed = sum(s != t for seqs, cut in zip(full, stopped, strict=True) for t, s in zip(seqs, cut, strict=True))
    assert trimmed >= 6
    # a row that hits a stop string leaves its batch: far fewer rows decoded (one token each) than without
    decoded = sum(rows for rows, length in shapes if length == 1)
    assert decoded < sum(rows for rows, length in full_shapes if length == 1) / 2


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_out_of_memory_halves_the_batch_and_keeps_the_samples(engine, prompts, monkeypatch):
    cfg = SamplingConfig(temperature=1.0, n=3, max_new_tokens=4, seed=5)
    expected = engine.sample(prompts[:4], cfg, batch_size=6)
    real, prompts_per_batch = engine._sample_batch, []

    def flaky(ids, seeds, config):
        prompts_per_batch.append(len(ids))
        if len(ids) > 1:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(ids, seeds, config)

    monkeypatch.setattr(engine, "_sample_batch", flaky)
    try:
        assert engine.sample(prompts[:4], cfg, batch_size=6) == expected
        assert prompts_per_batch == [2, 1, 1, 1, 1] and engine.max_batch == 3  # 6 rows failed: 3 rows, 1 prompt
    finally:
        engine.max_batch = None


def test_top_p_samples_only_from_the_nucleus():
    import torch

    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]] * 2000))
    gens = generators(range(2000), "cpu")
    counts = torch.bincount(choose_tokens(logits, SamplingConfig(temperature=1.0, top_p=0.7), gens), minlength=4)
    assert counts[2] == counts[3] == 0 and 0.55 < counts[0] / 2000 < 0.70  # 0.5 / 0.8 renormalised
    counts = torch.bincount(choose_tokens(logits, SamplingConfig(temperature=1.0, top_p=1.0), gens), minlength=4)
    assert counts[3] > 40  # the whole distribution: the 5 % token too
    assert set(choose_tokens(logits, SamplingConfig(temperature=1.0, top_p=0.5), gens).tolist()) == {0}
    assert set(choose_tokens(logits, SamplingConfig(temperature=0.01, top_p=1.0), gens).tolist()) == {0}


def test_the_nucleus_from_the_top_candidates_is_the_nucleus_of_the_whole_vocabulary(monkeypatch):
    """The shortcut (the top NUCLEUS_CANDIDATES tokens, when they hold top_p) keeps the same tokens with the same
    weights as ranking the whole vocabulary; where they fall short, the whole vocabulary is ranked."""
    import torch

    from kit.llm import sampling

    def dense(probs):
        weights, ids = sampling.nucleus(probs, 0.9)
        return torch.zeros_like(probs).scatter(1, ids, weights), weights.shape[1]

    torch.manual_seed(0)
    logits = torch.randn(64, 5000)
    logits[:32, :12] += torch.linspace(9, 14, 32)[:, None]  # half the rows: most mass on a dozen tokens
    for rows, candidates in ((logits[:32], sampling.NUCLEUS_CANDIDATES), (logits, 5000)):
        probs = torch.softmax(rows, dim=-1)
        fast, ranked = dense(probs)
        assert ranked == candidates
        monkeypatch.setattr(sampling, "NUCLEUS_CANDIDATES", 5000)  # always the whole vocabulary
        full, _ = dense(probs)
        monkeypatch.undo()
        assert torch.equal(fast, full)
        kept = (full > 0).sum(dim=1)
        assert kept.min() >= 1 and kept.max() > 1 and (full.sum(dim=1) >= 0.9 - 1e-6).all()


@pytest.mark.parametrize("bad", [{"temperature": -0.1}, {"top_p": 0.0}, {"top_p": 1.5}, {"n": 0},
                                 {"max_new_tokens": 0}, {"stop": ("",)}])
def test_the_config_refuses_values_that_cannot_sample(bad):
    name = next(iter(bad))
    with pytest.raises(InputError, match=f"sampling {name} must be"):
        SamplingConfig(**bad)
    assert SamplingConfig(stop=["\n\n"]).stop == ("\n\n",)  # a list reads as the tuple


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_the_room_cache_gives_the_plain_caches_logits(engine, monkeypatch):
    """Decoding into reserved room (kit.llm.kv_room) sees the same keys and values as concatenating: same logits
    over more steps than one reservation holds, across repeated and selected rows, with few reservations."""
    import torch

    from kit.llm import kv_room, prefix_cache

    model = engine.model
    ids = torch.tensor([engine.tokenizer("the quick brown fox jumps over", add_special_tokens=False)["input_ids"]])
    plain, room = prefix_cache.new_cache(model), kv_room.with_room(prefix_cache.new_cache(model))
    assert all(type(layer) is kv_room.RoomLayer for layer in room.layers)
    tokens = torch.arange(3, 3 + kv_room.ROOM + 10) % engine.tokenizer.vocab_size
    real, reserved = kv_room._reserve, []
    monkeypatch.setattr(kv_room, "_reserve", lambda filled, length: reserved.append(length) or real(filled, length))
    with torch.inference_mode():
        logits = [model(input_ids=ids, use_cache=True, cache=c).logits[:, -1] for c in (plain, room)]
        for step, token in enumerate(tokens.tolist()):
            if step == 5:
                for c in (plain, room):
                    prefix_cache.repeat_rows(c, 3)
            if step == 40:
                for c in (plain, room):
                    prefix_cache.select_rows(c, torch.tensor([2, 0]))
            rows = 1 if step < 5 else 3 if step < 40 else 2
            x = torch.full((rows, 1), token)
            logits = [model(input_ids=x, use_cache=True, cache=c).logits[:, -1] for c in (plain, room)]
            assert torch.equal(logits[0], logits[1])
    assert room.get_seq_length() == plain.get_seq_length() == ids.shape[1] + len(tokens)
    # keys and values of each layer: reserved at the first step, after the repeat and after the select, no more
    assert len(reserved) == 3 * 2 * len(room.layers)
