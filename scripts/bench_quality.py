"""Quality of recipes on a labelled test split: proxy score, rows/s and paired differences against `best`.

One run on the mini-competition's test split (default: the data `kit run-local` uses) with one model (default:
the embedded instruct model). The three `best` primes are generated once; `fewshot` is the first prime's
candidate alone (the same prompt and prime), `best` all three, `rescore`/`rescore-single` the same candidates
ranked by the rewriter (the same model, no adapter) in a timed later phase (`rescore-keepN` variants keep the top
N ranked candidates). `<template>+lora` trains an adapter with `kit train` on the training split, in a background
process while the rest runs (default template zeroshot: a third of fewshot's tokens per step on a CPU), and
predicts with its recorded format and prime. Scores are the metric with
the kit's embedder (the bundled MiniLM proxy unless --embedder): on a proxy the lucrarea suffix is removed before
scoring (the full-string score is shown beside it). Paired differences use the same rows and
`kit compare`'s statistic (kit.chain.compare.paired_difference). The best recipe is
printed LAST.

    .venv/bin/python scripts/bench_quality.py --quick            # 24 rows, no LoRA: a few minutes
    .venv/bin/python scripts/bench_quality.py > bench.txt 2>&1   # every row, LoRA and the embed ranking
Targets: rescore - best > 0 with its 95% CI above 0; the re-scoring phase at most as long as generation.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kit.chain.compare import paired_difference
from kit.files import write_json


def start_lora(args: argparse.Namespace, data_dir: Path, model: Path, out: Path) -> subprocess.Popen:
    """`kit train` on the training split, as a user runs it, in a background process while the rest runs."""
    workspace = Path(__file__).with_name("prompt_recovery.toml")  # `kit train` is this pack's command
    cmd = [sys.executable, "-m", "kit", "--config", str(workspace), "train", "--no-notebook",
           "--data", str(data_dir / "train.csv"),
           "--base", str(model), "--template", args.lora_template, "--out", str(out),
           "--max-steps", str(args.lora_steps), "--batch-size", "2", "--grad-accum", "2",
           "--max-length", str(args.lora_max_length), "--learning-rate", "3e-4", "--eval-rows", "0",
           "--val-fraction", "0", "--json"]
    print("$ " + " ".join(cmd), flush=True)
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL)


def finish_lora(proc: subprocess.Popen, out: Path, started: float) -> dict:
    """Wait for the training process; kit_adapter.json."""
    if proc.wait() != 0:
        raise SystemExit(f"kit train failed (exit {proc.returncode})")
    from kit.artefacts import AdapterInfo

    meta = AdapterInfo.load(out).to_dict()
    print(f"lora: {meta['global_step']} steps, {time.time() - started:.0f}s wall (beside the other recipes), "
          f"train_loss {meta['train_loss']:.3f}, template {meta['template']}, prime {meta['prime']!r}", flush=True)
    return meta


def main() -> None:  # noqa: PLR0915 - a linear script: load, generate, rank, train, score, print
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="competition-format folder (test.csv, test_labels.csv, "
                        "train.csv); default: the mini-competition kit run-local uses")
    parser.add_argument("--model", default=None, help="model folder (default: the embedded instruct model)")
    parser.add_argument("--embedder", default=None, help="sentence-transformers folder (default: bundled proxy)")
    parser.add_argument("--rows", type=int, default=0, help="first N test rows (0: all; --quick: 24)")
    parser.add_argument("--quick", action="store_true", help="24 rows; no LoRA, no embed ranking")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--max-field-tokens", type=int, default=256)
    parser.add_argument("--no-lora", action="store_true")
    parser.add_argument("--lora-steps", type=int, default=40)
    parser.add_argument("--lora-template", default="zeroshot",
                        help="template the adapter trains (and then predicts) in; fewshot is ~3x the tokens")
    parser.add_argument("--lora-max-length", type=int, default=512)
    parser.add_argument("--embed-ranking", action="store_true",
                        help="also rank by 'rewrite the original with each candidate and embed' (slow)")
    parser.add_argument("--json", action="store_true", help="print the table as JSON last instead")
    parser.add_argument("--lora-only", action="store_true", help="only train and predict the LoRA recipe (into "
                        "--state, e.g. beside another run that does the rest with the same file)")
    parser.add_argument("--state", default=None, help="JSON file keeping candidates, rankings and LoRA predictions: "
                        "a later run with the same file and rows only does what is missing (e.g. the LoRA recipe)")
    args = parser.parse_args()

    from kit import assets
    from kit.kernel.guard import TimeGuard
    from kit.llm.engine import Engine
    from kit.llm.memory import free_memory
    from kit.packs.prompt_recovery import samples
    from kit.packs.prompt_recovery.kernel import load_rows
    from kit.packs.prompt_recovery.metric import load_embedder, score_texts
    from kit.packs.prompt_recovery.predict import generate_candidates, predict_rows
    from kit.packs.prompt_recovery.rescore import Rescorer, rescore_phase
    from kit.packs.prompt_recovery.templates import get_template
    from kit.packs.prompt_recovery.train_data import trained_format
    from kit.tables import read_rows

    data_dir = Path(args.data) if args.data else samples.mini_competition_dir()
    model = Path(args.model) if args.model else assets.default_model_path()
    rows = load_rows(data_dir, args.rows or (24 if args.quick else 0))
    labels = {r["id"]: r["rewrite_prompt"] for r in read_rows(data_dir / "test_labels.csv")}
    truth = [labels[r["id"]] for r in rows]
    embedder = load_embedder(args.embedder)
    print(f"data {data_dir} ({len(rows)} test rows), model {model}, embedder {embedder.label}; "
          f"batch {args.batch_size}, max_new_tokens {args.max_new_tokens}", flush=True)
    opts = {"max_new_tokens": args.max_new_tokens, "batch_size": args.batch_size,
            "max_field_tokens": args.max_field_tokens, "mean_prompt": None, "writer": None, "progress": False}

    state = _load_state(args.state, rows)
    seconds: dict[str, float] = state.setdefault("seconds", {})
    want_lora = not (args.quick or args.no_lora) and "lora" not in state
    lora_dir = Path(tempfile.mkdtemp(prefix="bench-lora-")) / "adapter"
    lora = start_lora(args, data_dir, model, lora_dir) if want_lora else None
    lora_started = time.time()
    best, fewshot = get_template("best"), get_template("fewshot")
    engine = None
    if "ranked" not in state and not args.lora_only:
        t = time.time()
        engine = Engine(model)
        print(f"model loaded in {time.time() - t:.1f}s", flush=True)
        t, cpu = time.time(), time.process_time()
        state["first"] = generate_candidates(rows, fewshot, engine, guard=TimeGuard(10**9, 0), **opts)
        seconds["prime 1"] = time.time() - t
        print(f"prime 1: {seconds['prime 1']:.0f}s", flush=True)
        t = time.time()
        rest = generate_candidates(rows, _with_primes(best, best.primes[1:]), engine, guard=TimeGuard(10**9, 0),
                                   **opts)
        seconds["primes 2-3"] = time.time() - t
        seconds["generation cpu"] = time.process_time() - cpu
        state["candidates"] = [a + b for a, b in zip(state["first"], rest, strict=True)]
        print(f"generation: {seconds['prime 1'] + seconds['primes 2-3']:.0f}s for {len(rows)} rows x "
              f"{len(best.primes)} primes", flush=True)
        rescorer = Rescorer(engine.model, engine.tokenizer, max_field_tokens=args.max_field_tokens,
                            batch_size=args.batch_size)
        t, cpu = time.time(), time.process_time()
        state["ranked"] = rescore_phase(rows, state["candidates"], _keep(get_template("rescore"), 0), rescorer,
                                        guard=TimeGuard(10**9, 0), chunk_rows=args.batch_size)  # full ranking
        seconds["rescore"] = time.time() - t
        seconds["rescore cpu"] = time.process_time() - cpu
        print(f"re-scoring: {seconds['rescore']:.0f}s, {rescorer.sequences} sequences in "
              f"{rescorer.forward_passes} forward passes, {rescorer.shared_tokens_reused} head tokens reused",
              flush=True)
        _save_state(args.state, state)
    if args.embed_ranking and not args.quick and "by_embed" not in state and not args.lora_only:
        engine = engine or Engine(model)
        rescorer = Rescorer(engine.model, engine.tokenizer, max_field_tokens=args.max_field_tokens,
                            batch_size=args.batch_size)
        t = time.time()
        state["by_embed"] = rescore_phase(rows, state["candidates"], _keep(get_template("rescore"), 0), rescorer,
                                          guard=TimeGuard(10**9, 0), chunk_rows=args.batch_size, method="embed",
                                          embedder=embedder)
        seconds["rescore-embed"] = time.time() - t
        print(f"embed ranking: {seconds['rescore-embed']:.0f}s", flush=True)
        _save_state(args.state, state)
    del engine
    free_memory()
    if lora is not None:
        meta = finish_lora(lora, lora_dir, lora_started)
        lora_engine = Engine(model, adapter_path=lora_dir)
        tpl = trained_format(fewshot, lora_dir)  # the adapter's own format and prime, fewshot's assembly
        t = time.time()
        preds = predict_rows(rows, tpl, lora_engine, guard=TimeGuard(10**9, 0), **opts)
        seconds["lora"] = time.time() - t
        state["lora"] = {"name": f"{meta['template']}+lora", "predictions": preds,
                         "steps": meta["global_step"], "train_loss": meta["train_loss"]}
        print(f"lora predictions: {seconds['lora']:.0f}s; e.g. {preds[0][:80]!r}", flush=True)
        del lora_engine
        free_memory()
        _save_state(args.state, state)
    if args.lora_only:
        state = _load_state(args.state, rows)
        if "ranked" not in state:
            print("LoRA predictions saved; run again with the same --state once the other recipes are in it")
            return
        seconds = state["seconds"]
    first, candidates, ranked = state["first"], state["candidates"], state["ranked"]
    generation = seconds["prime 1"] + seconds["primes 2-3"]
    print(f"phases on the same {len(rows)} rows: generation {generation:.0f}s wall / {seconds['generation cpu']:.0f}s "
          f"CPU, re-scoring {seconds['rescore']:.0f}s wall / {seconds['rescore cpu']:.0f}s CPU (target: re-scoring <= "
          f"generation; CPU seconds move less with other jobs on the machine)", flush=True)

    def strings(tpl_name: str, cands: list[list[str | None]], keep: int | None = None) -> list[str]:
        tpl = get_template(tpl_name)
        keep = tpl.rescore_keep if keep is None else keep
        ranked_rows = [len({x for x in u if x}) > 1 for u in candidates]  # the rows rescore_phase ranked
        return [tpl.assemble(c[:keep or None] if rk else c, r["original_text"], r["rewritten_text"])
                for r, c, rk in zip(rows, cands, ranked_rows, strict=True)]

    recipes: dict[str, tuple[list[str], float]] = {
        "mean": (strings("mean", [[] for _ in rows]), 0.0),
        "fewshot": (strings("fewshot", first), seconds["prime 1"]),
        "best": (strings("best", candidates), generation),
        "rescore": (strings("rescore", ranked), generation + seconds["rescore"]),
        "rescore-single": (strings("rescore-single", ranked), generation + seconds["rescore"]),
    }
    for k in (1, 2, 0):  # how many ranked candidates to keep (embeddings barely see order: all 3 is ~ best)
        if k != get_template("rescore").rescore_keep:
            recipes[f"rescore-keep{k or 'all'}"] = (strings("rescore", ranked, k), generation + seconds["rescore"])
    if "by_embed" in state:
        by_embed, secs = state["by_embed"], generation + seconds["rescore-embed"]
        recipes["rescore-embed"] = (strings("rescore", by_embed), secs)
        recipes["rescore-embed-single"] = (strings("rescore-single", by_embed), secs)
    if "lora" in state:
        recipes[state["lora"]["name"]] = (state["lora"]["predictions"], seconds["lora"])

    reports = {name: score_texts(preds, truth, embedder) for name, (preds, _) in recipes.items()}
    base = reports["best"].per_row
    table = []
    for name, (_, secs) in recipes.items():
        rep = reports[name]
        diff = paired_difference(rep.per_row, base)  # the statistic `kit compare` reports: one definition
        table.append({"recipe": name, "score": rep.mean, "ci_low": rep.ci_low, "ci_high": rep.ci_high,
                      "full_string": rep.full_string, "rows_per_s": len(rows) / secs if secs else None,
                      "diff_vs_best": diff.mean, "diff_ci": [diff.ci_low, diff.ci_high], "n": rep.n})
    _print(table, reports["best"], seconds, truth, recipes)
    winner = max(table, key=lambda r: r["score"])
    if args.json:
        print(json.dumps({"rows": len(rows), "seconds": seconds, "table": table}, sort_keys=True))
    print(f"best recipe: {winner['recipe']} {winner['score']:.4f} [{winner['ci_low']:.4f}, {winner['ci_high']:.4f}]")


def _load_state(path: str | None, rows: list[dict]) -> dict:
    """What an earlier run with --state saved for the same rows (candidates, rankings, LoRA predictions)."""
    if not path or not Path(path).is_file():
        return {"ids": [r["id"] for r in rows]}
    state = json.loads(Path(path).read_text(encoding="utf-8"))
    if state.get("ids") != [r["id"] for r in rows]:
        raise SystemExit(f"{path} was saved for other rows: remove it or pass the same --data/--rows")
    print(f"reusing {', '.join(k for k in state if k not in ('ids', 'seconds'))} from {path}", flush=True)
    return state


def _save_state(path: str | None, state: dict) -> None:
    """Merge `state` into the file (another run may have added other recipes meanwhile), atomically."""
    if not path:
        return
    merged = json.loads(Path(path).read_text(encoding="utf-8")) if Path(path).is_file() else {}
    if merged.get("ids") == state["ids"]:
        merged["seconds"] = {**merged.get("seconds", {}), **state.get("seconds", {})}
        state = {**merged, **{k: v for k, v in state.items() if k != "seconds"}, "seconds": merged["seconds"]}
    write_json(path, state, indent=None)


def _with_primes(template, primes):
    import dataclasses

    return dataclasses.replace(template, primes=tuple(primes))


def _keep(template, keep: int):
    import dataclasses

    return dataclasses.replace(template, rescore_keep=keep)


def _print(table: list[dict], best_report, seconds: dict, truth: list[str], recipes: dict) -> None:
    from kit.packs.prompt_recovery.metric import describe_suffix

    note = describe_suffix(best_report)
    if note:
        print(f"note: {note}")
    print(f"{'recipe':22} {'score [95% CI]':26} {'full string':8} {'rows/s':>7}  {'vs best [95% CI]':28}")
    for r in table:
        full = f"{r['full_string']['mean']:.4f}" if r["full_string"] else "-"
        rate = f"{r['rows_per_s']:.3f}" if r["rows_per_s"] else "n/a"
        print(f"{r['recipe']:22} {r['score']:.4f} [{r['ci_low']:.4f}, {r['ci_high']:.4f}]   {full:>8} {rate:>7}  "
              f"{r['diff_vs_best']:+.4f} [{r['diff_ci'][0]:+.4f}, {r['diff_ci'][1]:+.4f}]")
    print("seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in seconds.items()))
    print("examples (truth -> rescore-single):")
    for true, pred in list(zip(truth, recipes["rescore-single"][0], strict=True))[:4]:
        print(f"  {true[:70]!r} -> {pred[:70]!r}")


if __name__ == "__main__":
    main()
