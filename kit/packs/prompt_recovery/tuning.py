"""`kit tune`: the re-scoring templates' choices made on training rows, never on test labels.

What is chosen: the candidate mix (greedy primes, sampled candidates, the mean prompt as a candidate), how many ranked
candidates are kept, and whether one candidate alone (`single`) or the kept ones concatenated with the mean prompt
(`concat`) is submitted. How: a seeded split of the *training* rows (the rows `kit train` learns from, which carry
their `rewrite_prompt`) is generated once with the largest mix and ranked once by the rewriter. A candidate's
log-likelihood does not depend on the others in its pool, and the first s of n sampled sequences are the ones a run
with n = s draws (kit.llm.sampling seeds each sequence by its number), so every smaller mix is that ranking filtered,
exactly what the kernel would submit with it. Every option is then scored with the kit's metric against the rows'
own prompts.

The result (`Tuning`) travels as sorted JSON in `[infer] tuning` (kit.toml) and the kernel's `tuning` parameter;
`apply_tuning` gives each re-scoring template its part. The report (`TuneReport`, kit_tuning.json) keeps every
option's score, so the pick can be checked.
"""

from __future__ import annotations

import dataclasses
import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from kit.artefacts import Artefact
from kit.errors import ConfigError, InputError

if TYPE_CHECKING:
    from kit.packs.prompt_recovery.templates import Template

ASSEMBLERS = ("single", "concat")
TRAIN_COLUMNS = ("id", "original_text", "rewrite_prompt", "rewritten_text")
KEEPS = (1, 2, 3, 0)  # concat: ranked candidates kept (0: all)
TIE = 1e-9  # options whose mean scores differ by less are tied: the cheaper one is picked


@dataclass(frozen=True)
class Choice(Artefact):
    """One way to build and submit a row's candidates."""

    assembler: str  # single or concat
    primes: int  # greedy candidates: the first N of the template's primes
    samples: int  # sampled candidates per row
    mean: bool  # the mean prompt is a candidate too
    keep: int  # ranked candidates assembled (0: all; single submits the first)

    def __post_init__(self) -> None:
        self.check_types()
        if self.assembler not in ASSEMBLERS or self.primes < 0 or self.samples < 0 or self.keep < 0:
            raise ValueError(f"not a tuning choice: {self}")

    @property
    def label(self) -> str:
        """One short line: `single p3 s4 +mean` or `concat p1 s0 keep2`."""
        keep = "" if self.assembler == "single" else f" keep{self.keep or 'all'}"
        return f"{self.assembler} p{self.primes} s{self.samples}{' +mean' if self.mean else ''}{keep}"

    def cost(self) -> tuple[int, int, bool, int]:
        """Generation and ranking work, for breaking ties: samples cost most, then primes."""
        return (self.samples, self.primes, self.mean, self.keep or 99)


@dataclass(frozen=True)
class Tuning(Artefact):
    """What the re-scoring templates take: the best choice for each assembler and which of the two won."""

    single: Choice
    concat: Choice
    picked: str  # the assembler of the overall best choice (what `rescore-tuned` submits)

    def __post_init__(self) -> None:
        _nested(self, Choice, "single", "concat")
        self.check_types()
        if self.picked not in ASSEMBLERS or self.single.assembler != "single" or self.concat.assembler != "concat":
            raise ValueError(f"not a tuning: {self}")

    def for_assembler(self, assembler: str) -> Choice:
        """The choice tuned for `assembler`."""
        return self.single if assembler == "single" else self.concat

    def to_text(self) -> str:
        """Compact sorted JSON: the value of `[infer] tuning` and of the kernel's `tuning` parameter."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_text(cls, text: str) -> Tuning | None:
        """The tuning in `text` (`to_text`'s form); None for an empty string; ConfigError when malformed."""
        if not text.strip():
            return None
        try:
            return cls.from_dict(json.loads(text))
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"[infer] tuning is not kit tune's JSON: {str(exc).splitlines()[0]}",
                              hint='rerun `kit tune`, or set tuning = "" for the templates\' own settings') from None


def _nested(obj: Artefact, cls: type[Artefact], *names: str) -> None:
    """Read nested artefacts given as dicts (from JSON) as `cls`: Artefact.check_types converts only those whose
    field is annotated as a union."""
    for name in names:
        value = getattr(obj, name)
        if isinstance(value, dict):
            try:
                object.__setattr__(obj, name, cls.from_dict(value))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{name}: {exc}") from None


def apply_tuning(template: Template, tuning: Tuning | str | None) -> Template:
    """`template` with the tuned candidate mix, keep and (for `rescore-tuned`) assembler; a template that does not
    re-score, or no tuning, is returned as it is."""
    tuned = Tuning.from_text(tuning) if isinstance(tuning, str) else tuning
    if tuned is None or not template.rescore:
        return template
    assembler = tuned.picked if template.tuned_assembly else template.assembler
    choice = tuned.for_assembler(assembler)
    return dataclasses.replace(template, assembler=assembler, primes=template.primes[:max(choice.primes, 1)],
                               samples=choice.samples, mean_candidate=choice.mean, rescore_keep=choice.keep)


def options(primes: int, max_samples: int) -> list[Choice]:
    """Every choice tried: 1..primes greedy candidates, 0, half and all of max_samples sampled ones, with and
    without the mean prompt; single, and concat keeping 1, 2, 3 or all."""
    sample_counts = sorted({0, max_samples // 2, max_samples})
    out = []
    for p in range(1, primes + 1):
        for s in sample_counts:
            for mean in (False, True):
                out.append(Choice("single", p, s, mean, 1))
                out += [Choice("concat", p, s, mean, k) for k in KEEPS]
    return out


@dataclass(frozen=True)
class TuneReport(Artefact):
    """kit_tuning.json: what `kit tune` picked, on which training rows, and every option's score there."""

    FILE_NAME: ClassVar[str] = "kit_tuning.json"

    tuning: Tuning
    options: list  # one dict per choice: its fields, label, score, ci_low, ci_high, vs_best (paired), vs_best_ci
    reference: dict  # `best` (greedy primes concatenated, nothing ranked) on the same rows
    data: str  # the training file the rows came from
    ids: list  # the training rows tuned on, in order
    seed: int
    template: str
    model: str
    rewriter: str
    embedder: str
    mean_prompt: str
    sampling: dict  # temperature, top_p, seed, max_samples
    seconds: dict  # generation, sampling, rescoring, scoring

    def __post_init__(self) -> None:
        _nested(self, Tuning, "tuning")
        self.check_types()

    def best_option(self) -> dict[str, Any]:
        """The picked option's row of `options`."""
        picked = self.tuning.for_assembler(self.tuning.picked).label
        return next(o for o in self.options if o["label"] == picked)


def training_rows(data: Path, rows: int, seed: int) -> tuple[Path, list[dict[str, str]]]:
    """(the training file, a seeded split of `rows` of its rows; 0: all). `data` is a training CSV or a
    competition-format folder, of which only train.csv is read (its test labels are never opened)."""
    from kit.tables import read_rows

    path = data / "train.csv" if data.is_dir() else data
    if not path.is_file():
        raise InputError(f"no training rows at {path}", hint="give --data a train.csv (id, original_text, "
                         "rewrite_prompt, rewritten_text) or a folder holding one")
    table = read_rows(path, required=TRAIN_COLUMNS)
    if not table:
        raise InputError(f"{path} has no rows")
    order = list(range(len(table)))
    random.Random(seed).shuffle(order)
    return path, [table[i] for i in sorted(order[:rows] if rows else order)]


def tune(data: Path, *, model: Path, rewriter: Path | None = None, embedder: Any = None, rows: int = 32,
         seed: int = 0, max_samples: int = 4, template: str = "rescore-tuned", mean_prompt: str | None = None,
         batch_size: int = 8, max_new_tokens: int = 32, max_field_tokens: int | None = 512,
         progress: bool = False, adapter: Path | None = None) -> TuneReport:
    """Tune `template`'s candidate mix, keep and assembler on `rows` training rows of `data` (see the module
    docstring); `rewriter` None ranks with the generation model itself (no adapter), as the kernel's default."""
    from kit.kernel.guard import TimeGuard
    from kit.llm.engine import Engine
    from kit.packs.prompt_recovery.metric import load_embedder
    from kit.packs.prompt_recovery.predict import generate_candidates
    from kit.packs.prompt_recovery.rescore import Rescorer
    from kit.packs.prompt_recovery.templates import DEFAULT_MEAN_PROMPT, get_template

    base = get_template(template)
    if not base.rescore:
        raise ConfigError(f"template '{template}' does not re-score: there is nothing to tune",
                          hint="tune a re-scoring template (rescore-tuned, rescore, rescore-single)")
    if max_samples < 0:
        raise ConfigError(f"--max-samples must be >= 0 (got {max_samples})")
    if adapter is not None:  # generate as the kernel will: in the adapter's trained format and prime
        from kit.packs.prompt_recovery.train_data import trained_format

        base = trained_format(base, Path(adapter))
    path, table = training_rows(Path(data), rows, seed)
    mean = mean_prompt or DEFAULT_MEAN_PROMPT
    widest = dataclasses.replace(base, samples=max_samples)
    engine = Engine(Path(model), adapter_path=adapter)
    guard = TimeGuard(budget_seconds=10**9, margin_seconds=0)
    seconds: dict[str, float] = {}
    started = time.time()
    generated = generate_candidates(table, widest, engine, max_new_tokens=max_new_tokens, batch_size=batch_size,
                                    max_field_tokens=max_field_tokens, mean_prompt=mean, guard=guard, writer=None,
                                    progress=progress)
    seconds["generation"] = time.time() - started
    if "sample" in guard.phases:  # generation's share spent sampling (its own phase of the guard)
        seconds["sampling"] = guard.phases["sample"].work_seconds
    started = time.time()
    if rewriter is None and adapter is None:  # the kernel's default rewriter is the generation model: load it once
        rescorer = Rescorer(engine.model, engine.tokenizer, max_field_tokens=max_field_tokens, batch_size=batch_size)
    else:
        engine.close()
        rescorer = Rescorer.load(rewriter or model, max_field_tokens=max_field_tokens, batch_size=batch_size)
    greedy = [g[:len(base.primes)] for g in generated]
    sampled = [g[len(base.primes):] for g in generated]
    from kit.packs.prompt_recovery.candidates import candidate_pool

    pools = [candidate_pool(g, s, [mean]) for g, s in zip(greedy, sampled, strict=True)]
    scores = [dict(r) for r in rescorer.rank(table, pools)]
    seconds["rescoring"] = time.time() - started
    started = time.time()
    embedder = embedder if embedder is not None else load_embedder()
    report = score_options(table, greedy, sampled, scores, base, mean, max_samples, embedder)
    seconds["scoring"] = time.time() - started
    return TuneReport(
        tuning=report["tuning"], options=report["options"], reference=report["reference"], data=str(path),
        ids=[r["id"] for r in table], seed=seed, template=template, model=str(model),
        rewriter=str(rewriter or model), embedder=embedder.label, mean_prompt=mean,
        sampling={"temperature": base.sample_temperature, "top_p": base.sample_top_p, "seed": base.sample_seed,
                  "max_samples": max_samples, "prime": base.sample_prime},
        seconds={k: round(v, 2) for k, v in seconds.items()})


def submissions(choice: Choice, base: Template, rows: Sequence[dict[str, str]], greedy: Sequence[Sequence[str | None]],
                sampled: Sequence[Sequence[str | None]], scores: Sequence[dict[str, float]], mean: str) -> list[str]:
    """Each row's submitted string under `choice`: its pool ranked by `scores` (a pool of one is not ranked, as in
    rescore_phase), cut to the kept candidates and assembled by the tuned template."""
    from kit.packs.prompt_recovery.candidates import candidate_pool, ranked

    # the choice's own assembler, whichever template is tuned (only rescore-tuned takes it from the tuning)
    tuning = Tuning(_as(choice, "single"), _as(choice, "concat"), choice.assembler)
    tpl = dataclasses.replace(apply_tuning(base, tuning), assembler=choice.assembler)
    out = []
    for row, g, s, sc in zip(rows, greedy, sampled, scores, strict=True):
        pool = candidate_pool(g[:choice.primes], s[:choice.samples], [mean] if choice.mean else [])
        order = ranked(pool, sc)[:tpl.rescore_keep or None] if len(pool) > 1 else pool
        out.append(tpl.assemble(order, row["original_text"], row["rewritten_text"], mean_prompt=mean))
    return out


def _as(choice: Choice, assembler: str) -> Choice:
    """`choice` with `assembler` (a Tuning holds one per assembler; only the picked one is used here)."""
    return dataclasses.replace(choice, assembler=assembler, keep=choice.keep if assembler == "concat" else 1)


def score_options(rows: Sequence[dict[str, str]], greedy: Sequence[Sequence[str | None]],
                  sampled: Sequence[Sequence[str | None]], scores: Sequence[dict[str, float]], base: Template,
                  mean: str, max_samples: int, embedder: Any) -> dict[str, Any]:
    """Score every option (and `best`) against the rows' own prompts; the best option per assembler, the
    overall pick (ties go to the cheaper option) and every option's figures."""
    from kit.chain.compare import paired_difference
    from kit.packs.prompt_recovery.metric import score_texts, summarize
    from kit.packs.prompt_recovery.templates import get_template

    tried = options(len(base.primes), max_samples)
    best = get_template("best")
    reference = [best.assemble(list(g), r["original_text"], r["rewritten_text"], mean_prompt=mean)
                 for r, g in zip(rows, greedy, strict=True)]
    strings = [reference] + [submissions(c, base, rows, greedy, sampled, scores, mean) for c in tried]
    truth = [r["rewrite_prompt"] for r in rows]
    n = len(rows)
    # One call: the embedder embeds each distinct string once, and options share most of theirs.
    per_row = score_texts([s for group in strings for s in group], truth * len(strings), embedder).per_row
    blocks = [per_row[i * n:(i + 1) * n] for i in range(len(strings))]
    ids = [r["id"] for r in rows]
    ref = summarize(blocks[0], ids)
    table = []
    for choice, values in zip(tried, blocks[1:], strict=True):
        rep, diff = summarize(values, ids), paired_difference(values, blocks[0])
        table.append({**choice.to_dict(), "label": choice.label, "score": rep.mean, "ci_low": rep.ci_low,
                      "ci_high": rep.ci_high, "vs_best": diff.mean, "vs_best_ci": [diff.ci_low, diff.ci_high]})
    winners = {a: _winner([(c, t) for c, t in zip(tried, table, strict=True) if c.assembler == a])
               for a in ASSEMBLERS}
    picked = max(ASSEMBLERS, key=lambda a: (_score_of(table, winners[a]), a == "single"))
    return {"tuning": Tuning(winners["single"], winners["concat"], picked), "options": table,
            "reference": {"template": "best", "score": ref.mean, "ci_low": ref.ci_low, "ci_high": ref.ci_high}}


def _winner(rows: list[tuple[Choice, dict[str, Any]]]) -> Choice:
    """The highest-scoring choice; among those within TIE of it, the cheapest."""
    top = max(t["score"] for _, t in rows)
    return min((c for c, t in rows if t["score"] >= top - TIE), key=Choice.cost)


def _score_of(table: list[dict[str, Any]], choice: Choice) -> float:
    return next(t["score"] for t in table if t["label"] == choice.label)


def describe(report: TuneReport, top: int = 8) -> str:
    """What `kit tune` prints: the pick, why (its score against `best` and the runner-ups) and the top options."""
    pick = report.best_option()
    ref = report.reference
    lines = [f"tuned on {len(report.ids)} training rows of {report.data} (seed {report.seed}; test labels not read)",
             f"picked: {pick['label']}  score {pick['score']:.4f} [{pick['ci_low']:.4f}, {pick['ci_high']:.4f}], "
             f"vs best {pick['vs_best']:+.4f} [{pick['vs_best_ci'][0]:+.4f}, {pick['vs_best_ci'][1]:+.4f}] "
             f"(best {ref['score']:.4f})",
             f"per assembler: single -> {report.tuning.single.label}; concat -> {report.tuning.concat.label}",
             "", f"{'option':<28} {'score':>7} {'vs best':>8}"]
    for row in sorted(report.options, key=lambda o: -o["score"])[:top]:
        lines.append(f"{row['label']:<28} {row['score']:>7.4f} {row['vs_best']:>+8.4f}")
    lines.append(f"({len(report.options)} options; every one in kit_tuning.json; seconds: "
                 + ", ".join(f"{k} {v:.0f}" for k, v in report.seconds.items()) + ")")
    return "\n".join(lines)
