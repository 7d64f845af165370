"""Throughput: the kit's batched Engine vs a one-row-at-a-time loop like the seed notebook's.

Both paths generate greedily with the same max_new_tokens for the same rendered prompts (the mini-competition's
test rows by default, repeated up to --rows). Prints rows/s of both, the projected time for 1,400 hidden rows,
and LAST the ratio. With several --batch-size values the engine runs once per value and the best one counts.

With --sampling it measures sampled attempts instead: --attempts (8) sampled sequences of --max-new-tokens (128)
on one ~--prompt-tokens (300) token prompt (a rewrite request over mini-competition originals), as Engine.sample
makes them (one prefill, the prompt's cache repeated to 8 rows, one batch) against as many separate
transformers generate() calls, each sampling one sequence with the same temperature and top-p. It checks that
Engine.sample gives the same sequences again for the same seed, and prints LAST the wall-time ratio.

    .venv/bin/python scripts/bench_infer.py                       # embedded instruct model, CPU (target >= 3.5x)
    .venv/bin/python scripts/bench_infer.py --batch-size 4,8,16   # which batch size is fastest on this machine
    .venv/bin/python scripts/bench_infer.py --model tiny          # the random tiny model (plumbing only)
    .venv/bin/python scripts/bench_infer.py --device cuda --model /path/to/Mistral-7B-Instruct
    .venv/bin/python scripts/bench_infer.py --device cuda --random-7b   # Mistral-7B shape, random weights
    .venv/bin/python scripts/bench_infer.py --sampling --max-new-tokens 128   # 8 attempts, one prefill (>= 3x)
"""

from __future__ import annotations

import argparse
import time

from kit.packs.prompt_recovery.kernel import HIDDEN_ROWS
from kit.packs.prompt_recovery.settings import InferConfig

MISTRAL_7B = {"vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
              "num_attention_heads": 32, "num_key_value_heads": 8, "max_position_embeddings": 32768}


def random_model(device: str, shape: dict | None = None):
    """A Mistral-shaped model (default: 7B) with random weights, built straight on the device in the
    precision the device gets (no checkpoint needed), plus the tiny model's tokenizer (its ids fit)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, MistralConfig

    from kit.assets import tiny_model_path
    from kit.llm.loading import dtype_kwargs, pick_dtype

    cfg = MistralConfig(**(shape or MISTRAL_7B), sliding_window=None, rope_theta=1e6)
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(cfg, **dtype_kwargs(pick_dtype(device)))
    tok = AutoTokenizer.from_pretrained(str(tiny_model_path()))
    model.generation_config.pad_token_id = tok.pad_token_id
    return model, tok


def _seed_loop(model, tokenizer, prompts: list[str], max_new_tokens: int) -> list[str]:
    """The seed's way: tokenize one prompt, generate, decode; no batching, no attention-mask padding."""
    outs = []
    for prompt in prompts:
        enc = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(model.device)
        gen = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, temperature=None, top_p=None,
                             top_k=None, pad_token_id=tokenizer.eos_token_id)
        outs.append(tokenizer.decode(gen[0, enc["input_ids"].shape[1]:], skip_special_tokens=True))
    return outs


def _separate_calls(model, tokenizer, prompt: str, cfg, attempts: int) -> tuple[list[str], list[int]]:
    """The plain way to get `attempts` samples: one transformers generate() per attempt, the prompt prefilled
    each time. Seeded through torch's global generator, as generate() samples with it."""
    import torch

    enc = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(model.device)
    texts, lengths = [], []
    for k in range(attempts):
        torch.manual_seed(cfg.seed + k)
        gen = model.generate(**enc, max_new_tokens=cfg.max_new_tokens, do_sample=True, temperature=cfg.temperature,
                             top_p=cfg.top_p, top_k=0, pad_token_id=tokenizer.pad_token_id,
                             eos_token_id=tokenizer.eos_token_id)
        new = gen[0, enc["input_ids"].shape[1]:]
        lengths.append(int((new != tokenizer.pad_token_id).sum()) if tokenizer.pad_token_id is not None
                       else len(new))
        texts.append(tokenizer.decode(new, skip_special_tokens=True))
    return texts, lengths


def sampling_prompt(tokenizer, tokens: int, data: str | None) -> str:
    """A rewrite request over distinct mini-competition originals, grown until its chat text has `tokens` tokens."""
    from kit.packs.prompt_recovery.kernel import load_rows
    from kit.packs.prompt_recovery.rewriter import render_rewriter_prompt
    from kit.packs.prompt_recovery.samples import mini_competition_dir

    originals = list(dict.fromkeys(r["original_text"] for r in load_rows(data or mini_competition_dir())))
    request = "Rewrite this text as a long, detailed story told by an old sailor."
    text = ""
    for original in originals:
        text = f"{text} {original}".strip()
        prompt = render_rewriter_prompt(tokenizer, request, text)
        if len(tokenizer(prompt, add_special_tokens=False)["input_ids"]) >= tokens:
            break
    return prompt


def bench_sampling(engine, args) -> None:
    """Engine.sample's n attempts from one prefill in one batch vs as many separate generate() calls."""
    from kit.llm.sampling import SamplingConfig

    cfg = SamplingConfig(temperature=args.temperature, top_p=args.top_p, seed=args.seed, n=args.attempts,
                         max_new_tokens=args.max_new_tokens)
    prompt = sampling_prompt(engine.tokenizer, args.prompt_tokens, args.data)
    length = len(engine.tokenizer(prompt, add_special_tokens=False)["input_ids"])
    print(f"1 prompt of {length} tokens, {cfg.n} attempts of up to {cfg.max_new_tokens} new tokens, "
          f"temperature {cfg.temperature}, top-p {cfg.top_p}, seed {cfg.seed}")
    warm = SamplingConfig(temperature=cfg.temperature, n=2, max_new_tokens=4)
    engine.sample([prompt], warm, batch_size=2)  # warm-up (kernels, allocator)
    _separate_calls(engine.model, engine.tokenizer, prompt, warm, 1)
    shared, (first_s, first_cpu) = _timed(args.device, lambda: engine.sample([prompt], cfg, batch_size=cfg.n)[0])
    (separate, lengths), (separate_s, separate_cpu) = _timed(
        args.device, lambda: _separate_calls(engine.model, engine.tokenizer, prompt, cfg, cfg.n))
    again, (again_s, again_cpu) = _timed(args.device, lambda: engine.sample([prompt], cfg, batch_size=cfg.n)[0])
    # the runs before and after the baseline, averaged: a drifting load hits both sides
    shared_s, shared_cpu = (first_s + again_s) / 2, (first_cpu + again_cpu) / 2
    made = [len(engine.tokenizer(x, add_special_tokens=False)["input_ids"]) for x in shared]
    print(f"Engine.sample, one prefill, one batch of {cfg.n}: {first_s:.1f}s before the separate calls, "
          f"{again_s:.1f}s after (CPU {first_cpu:.1f}s, {again_cpu:.1f}s); new tokens per attempt "
          f"{min(made)}-{max(made)} (re-tokenised), {sum(made) / shared_s:.1f} tokens/s, "
          f"{len(set(shared))} distinct attempts")
    print(f"same seed, same attempts on re-run: {'yes' if again == shared else 'NO'}")
    print(f"{cfg.n} separate generate() calls: {separate_s:.1f}s (CPU {separate_cpu:.1f}s); new tokens per call "
          f"{min(lengths)}-{max(lengths)}, {sum(lengths) / separate_s:.1f} tokens/s, {len(set(separate))} distinct")
    print(f"first attempt: {shared[0][:160]!r}")
    print(f"CPU-time ratio: {separate_cpu / shared_cpu:.1f}x")
    print(f"speedup ({cfg.n} separate generate() calls / Engine.sample, wall time): {separate_s / shared_s:.1f}x")


def _timed(device: str, work):
    """(work(), (wall seconds, this process's CPU seconds)) of `work`, the device synchronised on both sides. CPU
    seconds are the steadier figure on a machine other jobs share (they count this process's work only)."""
    _sync(device)
    wall, cpu = time.time(), time.process_time()
    out = work()
    _sync(device)
    return out, (time.time() - wall, time.process_time() - cpu)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--model", default=None,
                        help="model folder, or 'tiny' for the random tiny model (default: the embedded instruct model)")
    parser.add_argument("--data", default=None, help="competition folder with test.csv (default: mini-competition)")
    parser.add_argument("--random-7b", action="store_true", help="Mistral-7B-shaped random weights (GPU)")
    parser.add_argument("--template", default="fewshot")
    parser.add_argument("--rows", type=int, default=32)
    parser.add_argument("--batch-size", default=str(InferConfig().batch_size),
                        help="rows per batch; a comma-separated list measures each (default: [infer] batch_size)")
    parser.add_argument("--max-new-tokens", type=int, default=None, help="default: 32 greedy, 128 --sampling")
    parser.add_argument("--max-field-tokens", type=int, default=256)
    parser.add_argument("--no-prefix-cache", action="store_true", help="prefill every row's shared prefix again")
    parser.add_argument("--sampling", action="store_true", help="sampled attempts on one prompt (see above)")
    parser.add_argument("--attempts", type=int, default=8, help="--sampling: sequences per prompt")
    parser.add_argument("--prompt-tokens", type=int, default=300, help="--sampling: the prompt's length, about")
    parser.add_argument("--temperature", type=float, default=0.8, help="--sampling")
    parser.add_argument("--top-p", type=float, default=0.95, help="--sampling")
    parser.add_argument("--seed", type=int, default=0, help="--sampling")
    parser.add_argument("--dtype", default="auto", help="model precision (auto: fp32 on CPU; bf16 uses AMX where the "
                        "CPU has it)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice); 1 is "
                        "much faster than 2 on a machine other jobs keep busy")
    args = parser.parse_args()
    if args.max_new_tokens is None:
        args.max_new_tokens = 128 if args.sampling else 32
    batch_sizes = [int(b) for b in str(args.batch_size).split(",") if b.strip()]

    import torch

    from kit.assets import default_model_path, tiny_model_path
    from kit.llm.engine import Engine
    from kit.packs.prompt_recovery.kernel import load_rows
    from kit.packs.prompt_recovery.samples import mini_competition_dir
    from kit.packs.prompt_recovery.templates import get_template

    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.time()
    if args.random_7b:
        engine = Engine.from_loaded(*random_model(args.device), prefix_cache=not args.no_prefix_cache)
    else:
        model = tiny_model_path() if args.model == "tiny" else args.model or default_model_path()
        engine = Engine(model, device=args.device, dtype=args.dtype, prefix_cache=not args.no_prefix_cache)
    print(f"model {engine.model_path.name} on {engine.device} ({engine.dtype}) in {time.time() - t0:.1f}s; "
          f"torch threads {torch.get_num_threads()}")
    if args.sampling:
        bench_sampling(engine, args)
        return
    tpl = get_template(args.template)
    base = load_rows(args.data or mini_competition_dir())
    rows = [base[i % len(base)] for i in range(args.rows)]
    prompts = [tpl.render_prompt(engine.tokenizer, r["original_text"], r["rewritten_text"], prime=tpl.primes[0],
                                 max_field_tokens=args.max_field_tokens) for r in rows]
    lengths = [len(engine.tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]
    print(f"{len(prompts)} prompts, {min(lengths)}-{max(lengths)} tokens, max_new_tokens={args.max_new_tokens}, "
          f"batch_size={','.join(map(str, batch_sizes))}, greedy")
    engine.generate(prompts[:2], max_new_tokens=4, batch_size=2)  # warm-up (kernels, allocator)

    timings: dict[int, float] = {}
    for size in batch_sizes:
        engine.prefix_tokens_reused = 0  # count the timed call only (the warm-up's 2-row prefix is a different one)
        _sync(args.device)
        t = time.time()
        batched = engine.generate(prompts, max_new_tokens=args.max_new_tokens, batch_size=size)
        _sync(args.device)
        timings[size] = time.time() - t
        print(f"engine batch {size}: {len(prompts) / timings[size]:.2f} rows/s ({timings[size]:.1f}s)", flush=True)
    best = min(timings, key=timings.__getitem__)
    engine_s = timings[best]
    t = time.time()
    single = _seed_loop(engine.model, engine.tokenizer, prompts, args.max_new_tokens)
    _sync(args.device)
    loop_s = time.time() - t

    same = sum(a == b for a, b in zip(batched, single, strict=True))
    engine_rate, loop_rate = len(prompts) / engine_s, len(prompts) / loop_s
    print(f"outputs identical: {same}/{len(prompts)}")
    if engine.prefix_tokens_reused:
        shared = engine.prefix_tokens_reused // len(prompts)
        print(f"prefix cache: used ({shared} shared tokens prefilled once, {engine.prefix_tokens_reused} reused)")
    else:
        print(f"prefix cache: not used ({'disabled' if args.no_prefix_cache else 'no long shared prefix'})")
    print(f"engine (batch {best}): {engine_rate:.2f} rows/s ({engine_s:.1f}s), projected {HIDDEN_ROWS} rows: "
          f"{HIDDEN_ROWS / engine_rate / 3600:.2f} h per prime")
    print(f"loop:   {loop_rate:.2f} rows/s ({loop_s:.1f}s), projected {HIDDEN_ROWS} rows: "
          f"{HIDDEN_ROWS / loop_rate / 3600:.2f} h per prime")
    print(f"speedup (engine rows/s / loop rows/s): {engine_rate / loop_rate:.1f}x")


if __name__ == "__main__":
    main()
