"""Quality of recipes on a labelled test split: proxy score, rows/s and paired differences against `best`.

One run on the mini-competition's test split (default: the data `kit run-local` uses) with one model (default:
the embedded instruct model). Each row's candidates are made once: the three `best` greedy primes and --samples
sampled ones (kit.llm Engine.sample: one prefill, several sequences); `fewshot` is the first prime's candidate alone,
`best` the three concatenated. The rewriter (the same model, no adapter) then ranks each row's whole pool (greedy,
sampled and the mean prompt, deduplicated) once, in a timed later phase; a candidate's score does not depend on the
rest of its pool, so each re-scoring recipe is that ranking filtered to its own mix (kit.packs.prompt_recovery.tuning
.submissions, what the kernel submits with that mix). `rescore-tuned` is the choice `kit tune` made on a split of the
*training* rows (--tuning FILE: a kit_tuning.json; else this script tunes first, on --tune-rows training rows, never
reading the test labels for it). `rescore`/`rescore-single` are the templates' own defaults; `* p3 s0` the issue-12
recipes (best's three greedy candidates only).

`fewshot+lora` (--lora) trains an adapter with `kit train` in the template it then predicts in (fewshot by default,
in the adapter's recorded format and prime), for --lora-steps steps, in a background process while the rest runs,
prints its loss history (to see it flatten) and is paired against the same template and prime without the adapter.
Scores are the metric with the kit's embedder (the bundled MiniLM proxy unless --embedder): on a proxy the lucrarea
suffix is removed before scoring (the full-string score is shown beside it). Paired differences use the same rows
and `kit compare`'s statistic (kit.chain.compare.paired_difference). The best recipe is printed LAST.

    .venv/bin/python scripts/bench_quality.py --quick            # 24 rows, tuned on 8 training rows, no LoRA
    .venv/bin/python scripts/bench_quality.py --tuning tune/X/kit_tuning.json > bench.txt 2>&1   # all rows
    .venv/bin/python scripts/bench_quality.py --lora --lora-steps 150   # adds the LoRA recipe
Targets: rescore-tuned - best > 0 with its 95% CI above 0; the re-scoring phase at most as long as generation.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kit.chain.compare import paired_difference
from kit.files import write_json

PER_ROW = ("first", "greedy", "sampled", "scores")  # the state's lists with one entry per test row, in row order


def start_lora(args: argparse.Namespace, data_dir: Path, model: Path, out: Path) -> subprocess.Popen:
    """`kit train` on the training split, as a user runs it, in a background process while the rest runs."""
    workspace = Path(__file__).with_name("prompt_recovery.toml")  # `kit train` is this pack's command
    cmd = [sys.executable, "-m", "kit", "--config", str(workspace), "train", "--no-notebook",
           "--data", str(data_dir / "train.csv"),
           "--base", str(model), "--template", args.lora_template, "--out", str(out),
           "--max-steps", str(args.lora_steps), "--batch-size", "2", "--grad-accum", "2", "--logging-steps", "10",
           "--max-length", str(args.lora_max_length), "--learning-rate", "3e-4", "--eval-rows", "0",
           "--val-fraction", "0", "--cpu-threads", str(args.lora_threads), "--json"]
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
    parser.add_argument("--quick", action="store_true", help="24 test rows, tuned on 8 training rows; no LoRA")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--max-field-tokens", type=int, default=256)
    parser.add_argument("--samples", type=int, default=4, help="sampled candidates per row (the most any recipe "
                        "uses; a kit_tuning.json asking for more is refused)")
    parser.add_argument("--mean-prompt", default=None, help="mean prompt text (default: the --tuning file's, else "
                        "the kit's default)")
    parser.add_argument("--tuning", default=None, help="kit_tuning.json from `kit tune` (default: tune here)")
    parser.add_argument("--tune-rows", type=int, default=32, help="training rows to tune on without --tuning")
    parser.add_argument("--candidates-only", action="store_true", help="stop once the test rows' candidates and "
                        "ranking are in --state (e.g. while `kit tune` runs); a later run prints the table")
    parser.add_argument("--lora", action="store_true", help="also train and measure the LoRA recipe")
    parser.add_argument("--lora-steps", type=int, default=150)
    parser.add_argument("--lora-template", default="fewshot",
                        help="template the adapter trains (and then predicts) in")
    parser.add_argument("--lora-max-length", type=int, default=1024)
    parser.add_argument("--lora-threads", type=int, default=0, help="torch threads for the training process (0: "
                        "all cores; 20 s/step at 0 against 35 s at 1 on an otherwise idle 2-core machine)")
    parser.add_argument("--json", action="store_true", help="print the table as JSON last instead")
    parser.add_argument("--state", default=None, help="JSON file keeping candidates, rankings and LoRA predictions: "
                        "a later run with the same file and rows only does what is missing")
    args = parser.parse_args()

    from kit import assets
    from kit.kernel.guard import TimeGuard
    from kit.llm.engine import Engine
    from kit.llm.memory import free_memory
    from kit.packs.prompt_recovery import samples
    from kit.packs.prompt_recovery.candidates import candidate_pool
    from kit.packs.prompt_recovery.kernel import load_rows
    from kit.packs.prompt_recovery.metric import load_embedder, score_texts
    from kit.packs.prompt_recovery.predict import generate_candidates, predict_rows
    from kit.packs.prompt_recovery.rescore import Rescorer
    from kit.packs.prompt_recovery.templates import DEFAULT_MEAN_PROMPT, get_template
    from kit.packs.prompt_recovery.train_data import trained_format
    from kit.packs.prompt_recovery.tuning import Choice, TuneReport, submissions, tune
    from kit.tables import read_rows

    data_dir = Path(args.data) if args.data else samples.mini_competition_dir()
    model = Path(args.model) if args.model else assets.default_model_path()
    embedder = load_embedder(args.embedder)
    opts = {"max_new_tokens": args.max_new_tokens, "batch_size": args.batch_size,
            "max_field_tokens": args.max_field_tokens, "writer": None, "progress": False}
    rows = load_rows(data_dir, args.rows or (24 if args.quick else 0))
    tuning_dir = Path(args.tuning).parent if args.tuning and Path(args.tuning).is_file() else Path(args.tuning or ".")
    tuned = TuneReport.load(tuning_dir) if args.tuning else None
    mean = args.mean_prompt or (tuned.mean_prompt if tuned else None) or DEFAULT_MEAN_PROMPT
    print(f"data {data_dir} ({len(rows)} test rows), model {model}, embedder {embedder.label}; batch "
          f"{args.batch_size}, max_new_tokens {args.max_new_tokens}, {args.samples} samples; mean prompt {mean!r}",
          flush=True)

    state = _load_state(args.state, rows)
    seconds: dict[str, float] = state.setdefault("seconds", {})
    want_lora = args.lora and not args.quick and "lora" not in state
    if want_lora and "prefix_of" in state:
        raise SystemExit(f"--lora with a --state saved for {state['prefix_of']} rows: pass --rows "
                         f"{state['prefix_of']} (or 0) to train and predict on all of them")
    lora_dir = Path(tempfile.mkdtemp(prefix="bench-lora-")) / "adapter"
    lora = start_lora(args, data_dir, model, lora_dir) if want_lora else None
    lora_started = time.time()
    best, fewshot, rescore = get_template("best"), get_template("fewshot"), get_template("rescore")
    engine = None
    done = len(state.get("scores", []))  # rows an earlier run with this --state already made (a prefix of these)
    if done < len(rows):
        todo = rows[done:]
        t = time.time()
        engine = Engine(model)
        print(f"model loaded in {time.time() - t:.1f}s; making candidates for {len(todo)} rows", flush=True)
        t, cpu = time.time(), time.process_time()
        first = generate_candidates(todo, fewshot, engine, guard=TimeGuard(10**9, 0), mean_prompt=mean, **opts)
        spent = {"prime 1": time.time() - t}
        print(f"prime 1: {spent['prime 1']:.0f}s", flush=True)
        t = time.time()
        guard = TimeGuard(10**9, 0)
        rest = generate_candidates(todo, dataclasses.replace(rescore, primes=best.primes[1:], samples=args.samples),
                                   engine, guard=guard, mean_prompt=mean, **opts)
        spent["sampling"] = guard.phases["sample"].work_seconds if "sample" in guard.phases else 0.0
        spent["primes 2-3"] = time.time() - t - spent["sampling"]
        spent["generation cpu"] = time.process_time() - cpu
        n_rest = len(best.primes) - 1
        greedy = [a + b[:n_rest] for a, b in zip(first, rest, strict=True)]
        sampled = [b[n_rest:] for b in rest]
        print(f"generation: greedy {spent['prime 1'] + spent['primes 2-3']:.0f}s for {len(todo)} rows x "
              f"{len(best.primes)} primes, sampling {spent['sampling']:.0f}s for {args.samples} per row", flush=True)
        rescorer = Rescorer(engine.model, engine.tokenizer, max_field_tokens=args.max_field_tokens,
                            batch_size=args.batch_size)
        pools = [candidate_pool(g, x, [mean]) for g, x in zip(greedy, sampled, strict=True)]
        t, cpu = time.time(), time.process_time()
        scores = [dict(r) for r in rescorer.rank(todo, pools)]  # every candidate of the widest pools
        spent["rescore"] = time.time() - t
        spent["rescore cpu"] = time.process_time() - cpu
        print(f"re-scoring: {spent['rescore']:.0f}s for {sum(map(len, pools))} candidates, {rescorer.sequences} "
              f"sequences in {rescorer.forward_passes} forward passes, {rescorer.shared_tokens_reused} head tokens "
              f"reused", flush=True)
        for key, made in zip(PER_ROW, (first, greedy, sampled, scores), strict=True):
            state[key] = state.get(key, []) + made
        for key, value in spent.items():  # phase times add up over the runs that made the rows
            seconds[key] = seconds.get(key, 0.0) + value
        state["ids"] = [r["id"] for r in rows]
        _save_state(args.state, state)
    del engine
    free_memory()
    if lora is not None:
        meta = finish_lora(lora, lora_dir, lora_started)
        tpl = trained_format(get_template(args.lora_template), lora_dir)  # the adapter's own format and prime
        for key, adapter in (("lora", lora_dir), ("lora base", None)):
            lora_engine = Engine(model, adapter_path=adapter)
            t = time.time()
            preds = predict_rows(rows, tpl, lora_engine, guard=TimeGuard(10**9, 0), mean_prompt=mean, **opts)
            seconds[key] = time.time() - t
            state[key] = {"name": f"{meta['template']}{'+lora' if adapter else ' (lora format, no adapter)'}",
                          "predictions": preds, "steps": meta["global_step"], "train_loss": meta["train_loss"],
                          "loss_history": meta.get("loss_history")}
            print(f"{state[key]['name']} predictions: {seconds[key]:.0f}s; e.g. {preds[0][:80]!r}", flush=True)
            del lora_engine
            free_memory()
        _save_state(args.state, state)
    if args.candidates_only:
        print(f"candidates and their ranking saved in {args.state}; run again with the same --state for the table")
        return
    # Tuning, on training rows only (the test labels are read after it, for the table).
    if tuned is not None:
        print(f"tuning from {args.tuning}: picked {tuned.best_option()['label']} on {len(tuned.ids)} training rows",
              flush=True)
    else:
        t = time.time()
        tuned = tune(data_dir / "train.csv", model=model, embedder=embedder, rows=8 if args.quick else args.tune_rows,
                     max_samples=args.samples, mean_prompt=mean, batch_size=args.batch_size,
                     max_new_tokens=args.max_new_tokens, max_field_tokens=args.max_field_tokens)
        print(f"tuned on {len(tuned.ids)} training rows in {time.time() - t:.0f}s: picked "
              f"{tuned.best_option()['label']}", flush=True)
    if tuned.mean_prompt != mean:
        raise SystemExit(f"the tuning used another mean prompt ({tuned.mean_prompt!r}) than the candidates ({mean!r})")
    pick = tuned.tuning.for_assembler(tuned.tuning.picked)
    if pick.samples > len(state["sampled"][0]):
        raise SystemExit(f"the tuning picked {pick.samples} samples, more than --samples {args.samples} made")
    labels = {r["id"]: r["rewrite_prompt"] for r in read_rows(data_dir / "test_labels.csv")}
    truth = [labels[r["id"]] for r in rows]
    greedy, sampled, scores = state["greedy"], state["sampled"], state["scores"]
    generation = seconds["prime 1"] + seconds["primes 2-3"] + seconds["sampling"]
    print(f"phases on the same {len(rows)} rows: generation {generation:.0f}s wall (greedy "
          f"{generation - seconds['sampling']:.0f}s, sampling {seconds['sampling']:.0f}s) / "
          f"{seconds['generation cpu']:.0f}s CPU, re-scoring {seconds['rescore']:.0f}s wall / "
          f"{seconds['rescore cpu']:.0f}s CPU (target: re-scoring <= generation; CPU seconds move less with other "
          f"jobs on the machine)", flush=True)

    def mixed(choice: Choice) -> list[str]:
        return submissions(choice, rescore, rows, greedy, sampled, scores, mean)

    def own(name: str) -> Choice:  # a template's untuned settings as a Choice
        tpl = get_template(name)
        return Choice(tpl.assembler, len(tpl.primes), tpl.samples, tpl.mean_candidate,
                      tpl.rescore_keep if tpl.assembler == "concat" else 1)

    full = seconds["rescore"]  # the widest pools' ranking: an upper bound for every mix
    greedy_secs = seconds["prime 1"] + seconds["primes 2-3"]
    recipes: dict[str, tuple[list[str], float]] = {
        "mean": ([best.fallback(r["original_text"], r["rewritten_text"], mean) for r in rows], 0.0),
        "fewshot": ([fewshot.assemble(c, r["original_text"], r["rewritten_text"], mean_prompt=mean)
                     for r, c in zip(rows, state["first"], strict=True)], seconds["prime 1"]),
        "best": ([best.assemble(c, r["original_text"], r["rewritten_text"], mean_prompt=mean)
                  for r, c in zip(rows, greedy, strict=True)], greedy_secs),
        "rescore p3 s0": (mixed(Choice("concat", 3, 0, False, 0)), greedy_secs + full),
        "rescore-single p3 s0": (mixed(Choice("single", 3, 0, False, 1)), greedy_secs + full),
        "rescore": (mixed(own("rescore")), generation + full),
        "rescore-single": (mixed(own("rescore-single")), generation + full),
        f"rescore-tuned ({pick.label})": (mixed(pick), greedy_secs + seconds["sampling"] * bool(pick.samples) + full),
    }
    for key in ("lora base", "lora"):
        if key in state:
            recipes[state[key]["name"]] = (state[key]["predictions"], seconds[key])

    reports = {name: score_texts(preds, truth, embedder) for name, (preds, _) in recipes.items()}
    base = reports["best"].per_row
    table = []
    for name, (_, secs) in recipes.items():
        rep = reports[name]
        diff = paired_difference(rep.per_row, base)  # the statistic `kit compare` reports: one definition
        table.append({"recipe": name, "score": rep.mean, "ci_low": rep.ci_low, "ci_high": rep.ci_high,
                      "full_string": rep.full_string, "rows_per_s": len(rows) / secs if secs else None,
                      "diff_vs_best": diff.mean, "diff_ci": [diff.ci_low, diff.ci_high], "n": rep.n})
    _print(table, reports["best"], seconds, truth, recipes, f"rescore-tuned ({pick.label})")
    if "lora" in state:
        lora_vs = paired_difference(reports[state["lora"]["name"]].per_row, reports[state["lora base"]["name"]].per_row)
        print(f"{state['lora']['name']} vs {state['lora base']['name']}: {lora_vs.mean:+.4f} "
              f"[{lora_vs.ci_low:+.4f}, {lora_vs.ci_high:+.4f}] ({state['lora']['steps']} steps, loss history "
              f"{state['lora']['loss_history']})")
    winner = max(table, key=lambda r: r["score"])
    if args.json:
        print(json.dumps({"rows": len(rows), "seconds": seconds, "table": table, "tuning": tuned.to_dict()},
                         sort_keys=True))
    print(f"best recipe: {winner['recipe']} {winner['score']:.4f} [{winner['ci_low']:.4f}, {winner['ci_high']:.4f}]")


def _load_state(path: str | None, rows: list[dict]) -> dict:
    """What an earlier run with --state saved for the same rows (candidates, rankings, LoRA predictions); a state
    saved for more rows serves their first --rows read-only (every row's candidates and ranking are its own)."""
    if not path or not Path(path).is_file():
        return {"ids": [r["id"] for r in rows]}
    state = json.loads(Path(path).read_text(encoding="utf-8"))
    ids, saved = [r["id"] for r in rows], state.get("ids", [])
    if len(saved) > len(ids) and saved[:len(ids)] == ids:
        state = _prefix(state, len(ids))
    elif saved != ids[:len(saved)]:  # more rows than saved: the run makes the rest
        raise SystemExit(f"{path} was saved for other rows: remove it or pass the same --data (and --rows at least "
                         f"as many)")
    if len(state["ids"]) < len(ids) and any(k.startswith("lora") for k in state):
        raise SystemExit(f"{path} holds LoRA predictions for {len(state['ids'])} rows only: remove them first")
    print(f"reusing {', '.join(k for k in state if k not in ('ids', 'seconds', 'prefix_of'))} from {path}"
          + (f" (its first {len(ids)} of {state['prefix_of']} rows; phase times scaled to them)"
             if "prefix_of" in state else ""), flush=True)
    return state


def _prefix(state: dict, n: int) -> dict:
    """`state` cut to its first n rows, never saved back; phase times scaled by rows (the batches are the same)."""
    cut: dict = {"prefix_of": len(state["ids"]), "ids": state["ids"][:n]}
    share = n / len(state["ids"])
    cut["seconds"] = {k: v * share for k, v in state.get("seconds", {}).items()}
    for key, value in state.items():
        if key in PER_ROW:
            cut[key] = value[:n]
        elif key.startswith("lora"):
            cut[key] = {**value, "predictions": value["predictions"][:n]}
    return cut


def _save_state(path: str | None, state: dict) -> None:
    """Merge `state` into the file (another run may have added other recipes meanwhile), atomically."""
    if not path or "prefix_of" in state:
        return
    merged = json.loads(Path(path).read_text(encoding="utf-8")) if Path(path).is_file() else {}
    if merged.get("ids") == state["ids"][:len(merged.get("ids", []))]:
        merged["seconds"] = {**merged.get("seconds", {}), **state.get("seconds", {})}
        state = {**merged, **{k: v for k, v in state.items() if k != "seconds"}, "seconds": merged["seconds"]}
    write_json(path, state, indent=None)


def _print(table: list[dict], best_report, seconds: dict, truth: list[str], recipes: dict, shown: str) -> None:
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
    print(f"examples (truth -> {shown}):")
    for true, pred in list(zip(truth, recipes[shown][0], strict=True))[:4]:
        print(f"  {true[:70]!r} -> {pred[:70]!r}")


if __name__ == "__main__":
    main()
