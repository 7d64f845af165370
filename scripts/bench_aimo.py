"""AIMO recipes on the embedded instruct model: accuracy per recipe on the reference plus public problems.

Each recipe (greedy, vote, tir, tir-vote) solves the same problems with the kernel's own code
(kit.packs.aimo.kernel, kit.packs.aimo.solvers) under the kernel's time banking: a CallBudget of
`--budget-per-problem` seconds times the problems, each problem's Deadline its share of the time left. Printed:
accuracy with its 95% Wilson interval, the paired difference against greedy with its 95% CI
(kit.chain.compare.paired_difference, the project's one paired statistic), seconds per problem, the agreement
rate (attempts that gave the chosen answer, of the attempts that gave any), and how often time banking stopped
further attempts. The figure is printed last. A 135M model solves little: the figure measures the machinery.

    .venv/bin/python scripts/bench_aimo.py [--quick] [--state FILE] [--recipes greedy,vote] [--limit N]
        [--tier easy]

`--quick`: 6 problems, 4 attempts in waves of 2, 48 tokens a step, one tool round. `--state FILE` keeps each
solved problem as it finishes and resumes from it (same settings only).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from kit.chain.compare import paired_difference
from kit.kernel.serving import CallBudget, Deadline
from kit.packs.aimo import kernel
from kit.packs.aimo.competition import DATA, HIDDEN
from kit.packs.aimo.pack import wilson
from kit.packs.aimo.params import RECIPE_NAMES, SolveParams
from kit.tables import read_rows


def problems(limit: int, tier: str = "") -> list[dict[str, str]]:
    """The reference problems, then the public ones; with `tier`, only the public problems of that tier (the
    reference file names none); the first `limit` (0: all)."""
    rows = read_rows(DATA / "reference.csv") + read_rows(HIDDEN / "public.csv")
    if tier:
        rows = [r for r in rows if r.get("tier") == tier]
    return rows[:limit] if limit else rows


def load_state(path: Path | None, settings: dict) -> dict:
    """Results so far ({recipe: {id: result}}) from `path`, when it was made with the same settings."""
    if path is None or not path.is_file():
        return {"settings": settings, "results": {}}
    state = json.loads(path.read_text(encoding="utf-8"))
    if state.get("settings") != settings:
        sys.exit(f"{path}: made with other settings ({state.get('settings')}); use another --state file")
    return state


def save_state(path: Path | None, state: dict) -> None:
    """Write the state atomically (a killed run keeps the last finished problem)."""
    if path is not None:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)


def run_recipe(name: str, rows: list[dict[str, str]], params: SolveParams, model: kernel.EngineModel,
               done: dict, budget_per_problem: float, on_solved) -> None:
    """Solve every row not yet in `done` with recipe `name` under time banking; `on_solved` after each."""
    tools = kernel.PoolTools(params.tool_seconds) if name.startswith("tir") else None
    budget = CallBudget(budget_seconds=budget_per_problem * len(rows), expected_rows=len(rows), margin_seconds=0)
    log: list[dict] = []
    solve = kernel.make_solve(dataclass_replace(params, template=name), lambda: model, lambda: tools, log)
    used = sum(r["seconds"] for r in done.values())  # resumed: the bank is what the finished problems left
    for row in rows:
        if row["id"] in done:
            continue
        allowance = budget.share(used, len(done))
        began = time.monotonic()
        answer = solve(row, Deadline(allowance))
        seconds = time.monotonic() - began
        used += seconds
        entry = log[-1]
        done[row["id"]] = {"answer": answer, "correct": answer == int(row["answer"]), "seconds": round(seconds, 2),
                           "answers": entry["answers"], "out_of_time": entry["out_of_time"],
                           "tool_calls": entry["tool_calls"]}
        on_solved()
    if tools is not None:
        tools.pool.close()


def dataclass_replace(params: SolveParams, **changes: object) -> SolveParams:
    import dataclasses

    return dataclasses.replace(params, **changes)


def summary(name: str, rows: list[dict[str, str]], results: dict, greedy: dict | None) -> str:
    """One line for a recipe."""
    got = [results[r["id"]] for r in rows]
    correct = [float(g["correct"]) for g in got]
    low, high = wilson(int(sum(correct)), len(correct))
    given = sum(sum(a is not None for a in g["answers"]) for g in got)
    agree = sum(sum(a is not None and a == g["answer"] for a in g["answers"]) for g in got)
    line = (f"{name:9s} accuracy {sum(correct):.0f}/{len(correct)} = {sum(correct) / len(correct):.3f} "
            f"[{low:.3f}, {high:.3f}]  {sum(g['seconds'] for g in got) / len(got):6.2f} s/problem  "
            f"agreement {agree / given if given else float('nan'):.2f} ({given} answered attempts)  "
            f"time-banking stops {sum(g['out_of_time'] for g in got)}  tool calls {sum(g['tool_calls'] for g in got)}")
    if greedy is not None and name != "greedy":
        diff = paired_difference(correct, [float(greedy[r["id"]]["correct"]) for r in rows])
        line += f"\n{'':9s} vs greedy {diff.mean:+.3f} [{diff.ci_low:+.3f}, {diff.ci_high:+.3f}] (n={diff.n})"
    return line


def main(argv: list[str] | None = None) -> None:
    """Run the bench and print the figure last."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="6 problems, 4 attempts, 48 tokens, one tool round")
    ap.add_argument("--state", type=Path, default=None, help="JSON file to resume from and save to")
    ap.add_argument("--recipes", default=",".join(RECIPE_NAMES), help="comma-separated recipes (greedy first)")
    ap.add_argument("--limit", type=int, default=None, help="problems (default 60; --quick 6; 0: all)")
    ap.add_argument("--tier", choices=("easy", "medium", "hard"), default="",
                    help="only the public problems of this tier (16 easy, 18 medium, 16 hard)")
    ap.add_argument("--budget-per-problem", type=float, default=None, help="seconds banked per problem")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a busy CPU)")
    args = ap.parse_args(argv)
    quick = args.quick
    params = SolveParams(template="greedy", attempts=4 if quick else 8, wave=2 if quick else 4, agree=3,
                         tool_rounds=1 if quick else 3, max_new_tokens=48 if quick else 384, cpu_threads=args.threads,
                         batch_size=8, tool_seconds=5.0)
    limit = args.limit if args.limit is not None else (6 if quick else 0)
    budget = args.budget_per_problem or (30.0 if quick else 240.0)
    recipes = [r for r in args.recipes.split(",") if r]
    rows = problems(limit, args.tier)
    settings = {"limit": limit, "tier": args.tier, "params": {k: v for k, v in vars(params).items() if k != "sources"},
                "budget_per_problem": budget,
                "prompts": [kernel.SYSTEM, kernel.SYSTEM_TOOLS, kernel.EXAMPLE_ANSWER, kernel.EXAMPLE_TOOLS,
                            kernel.ANSWER_LEAD]}  # a state file made with other prompts is not resumed
    state = load_state(args.state, settings)
    began = time.monotonic()
    model = kernel.load_model(params, None)
    print(f"model loaded in {time.monotonic() - began:.1f}s; {len(rows)} problems, recipes {', '.join(recipes)}",
          file=sys.stderr)
    for name in recipes:
        done = state["results"].setdefault(name, {})
        run_recipe(name, rows, params, model, done, budget, lambda: save_state(args.state, state))
        print(f"{name}: done", file=sys.stderr)
    greedy = state["results"].get("greedy")
    which = f"public, {args.tier} tier" if args.tier else "reference then public"
    print(f"AIMO recipes, embedded SmolLM2-135M-Instruct, {len(rows)} problems ({which}), "
          f"{budget:.0f} s banked per problem, {params.attempts} attempts / waves of {params.wave} / stop at "
          f"{params.agree} agreeing, {params.max_new_tokens} tokens a step, {params.tool_rounds} tool round(s):")
    for name in recipes:
        print(summary(name, rows, state["results"][name], greedy))


if __name__ == "__main__":
    main()
