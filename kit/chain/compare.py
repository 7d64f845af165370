"""`kit compare`: paired differences between local runs on the same rows, read from the ledger.

The first run named is the baseline; every other run gets the mean of its per-row differences from the baseline
(run minus baseline) with a 95% confidence interval, its wins, losses and ties, and both runs' rows/s. Pairing
cancels the rows' own difficulty, which two separate CIs (`kit history --local`) cannot: a recipe 0.005 better on
every row is clearly better even when both CIs are 0.04 wide.

Per-row scores are the pack's business (`Pack.row_scores`, whose mean is the pack's score); the pairing is generic.
`paired_difference` is the one definition of the paired statistic: scripts/bench_quality.py uses it too.

Light on purpose: no numpy or torch at import time (the pack's scorer loads what it needs); matplotlib is imported
only by `plot`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from kit.errors import ConfigError, InputError

Z95 = 1.96  # the normal 97.5% quantile: the metric's own score CI uses it too
TIE_EPSILON = 1e-6  # rows whose scores differ by at most this are ties: embedding one text in another batch moves
# its score by ~1e-7, and no metric of the kit's packs tells rows apart that finely
SCORE_TOLERANCE = 1e-6  # how far the recomputed per-row mean may be from the score the ledger recorded
STATISTIC = (f"mean of per-row differences (run - baseline); 95% CI: mean +/- {Z95} * sd / sqrt(n), sd over the "
             f"n differences (population); ties: |difference| <= {TIE_EPSILON:g}")


@dataclass(frozen=True)
class PairedDifference:
    """The mean of per-row differences a - b and its 95% normal confidence interval."""

    mean: float
    ci_low: float
    ci_high: float
    n: int


def paired_difference(a: Sequence[float], b: Sequence[float]) -> PairedDifference:
    """Mean of a[i] - b[i] over the rows and its 95% CI, mean +/- 1.96 * sd / sqrt(n), with the population sd
    of the differences (as the metric's own CI). `a` and `b` score the same rows in the same order."""
    if len(a) != len(b):
        raise ValueError(f"paired scores need the same rows: {len(a)} vs {len(b)}")
    if not a:
        raise ValueError("no rows to pair")
    diffs = [x - y for x, y in zip(a, b, strict=True)]
    n = len(diffs)
    mean = math.fsum(diffs) / n
    half = Z95 * math.sqrt(math.fsum((d - mean) ** 2 for d in diffs) / n) / math.sqrt(n)
    return PairedDifference(mean, mean - half, mean + half, n)


def outcomes(run: Sequence[float], baseline: Sequence[float], epsilon: float = TIE_EPSILON) -> tuple[int, int, int]:
    """(wins, losses, ties) of `run` against `baseline`, row by row; a tie differs by at most `epsilon`."""
    diffs = [x - y for x, y in zip(run, baseline, strict=True)]
    wins = sum(d > epsilon for d in diffs)
    losses = sum(d < -epsilon for d in diffs)
    return wins, losses, len(diffs) - wins - losses


@dataclass(frozen=True)
class RunScores:
    """One local run as the ledger recorded it, with its per-row scores in `Comparison.ids` order."""

    id: int
    template: str | None
    out_dir: str
    score: float
    rows: int
    rows_per_second: float | None
    row_scores: list[float] = field(repr=False)

    @property
    def label(self) -> str:
        """`#id template`, as `kit history --local` shows a run."""
        return f"#{self.id} {self.template or '-'}"


@dataclass(frozen=True)
class Versus:
    """One run against the baseline."""

    run: RunScores
    difference: PairedDifference
    wins: int
    losses: int
    ties: int


@dataclass(frozen=True)
class Comparison:
    """What `kit compare` found: the baseline, each other run against it, the rows they share."""

    baseline: RunScores
    others: list[Versus]
    ids: list[str]
    data_ref: str
    data_hash: str
    tie_epsilon: float = TIE_EPSILON
    statistic: str = STATISTIC
    plot: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for --json: per-row scores aligned with `ids`."""
        return asdict(self)


def compare(refs: Sequence[str], *, ledger: Any = None, plot_path: Path | None = None) -> Comparison:
    """Pair every run in `refs` (ledger ids such as `12` or `#12`, or run folders) with the first one.

    InputError, one line naming both runs, when a run is on other rows (other data, or other ids: a `--rows`
    run); ConfigError when the runs' pack offers no per-row scores. With `plot_path`, also draws the figure."""
    from kit.ledger import Ledger

    if len(refs) < 2:
        raise InputError("kit compare needs at least two runs: the first is the baseline")
    led = ledger or Ledger()
    try:
        rows = [r for r in led.local_experiments() if r["kind"] == "run-local"]
        trains = {r["id"] for r in led.local_experiments("train")}
    finally:
        if ledger is None:
            led.close()
    chosen = [_find(ref, rows, trains) for ref in refs]
    _refuse_repeats(chosen)
    base = chosen[0]
    for other in chosen[1:]:
        _same_data(base, other)
    loaded = [_load(row) for row in chosen]
    ids = loaded[0].ids
    for row, run in zip(chosen[1:], loaded[1:], strict=True):
        _same_ids(base, ids, row, run.ids)
    scored = [_scores(row, run, ids) for row, run in zip(chosen, loaded, strict=True)]
    baseline = scored[0]
    others = [Versus(run, paired_difference(run.row_scores, baseline.row_scores),
                     *outcomes(run.row_scores, baseline.row_scores)) for run in scored[1:]]
    result = Comparison(baseline, others, ids, str(base["data_ref"]), str(base["data_hash"]))
    if plot_path is not None:
        result = replace(result, plot=str(plot(result, plot_path)))
    return result


def _find(ref: str, rows: list[dict[str, Any]], trains: set[int]) -> dict[str, Any]:
    """The run-local row `ref` names: a ledger id (`12`, `#12`), else a run folder, by its path or, when that is
    not one, by its name (a folder run into twice is its newest run, the one whose submission is there)."""
    text = ref.strip()
    if text.lstrip("#").isdigit():
        run_id = int(text.lstrip("#"))
        for row in rows:
            if row["id"] == run_id:
                return row
        if run_id in trains:
            raise InputError(f"#{run_id} is a kit train validation, not a kit run-local run: it left no submission "
                             f"to compare")
        raise InputError(f"no kit run-local run #{run_id} in the ledger", hint="`kit history --local` lists them")
    path = Path(text).expanduser().resolve()
    recorded = [row for row in rows if row["out_dir"]]  # newest first
    by_path = [row for row in recorded if Path(row["out_dir"]).resolve() == path]
    by_name = [row for row in recorded if Path(row["out_dir"]).name == Path(text).name]
    found = by_path or by_name
    if not found:
        raise InputError(f"no kit run-local run recorded in folder {ref!r}",
                         hint="name a run by its ledger id or its folder, as `kit history --local` lists them")
    folders = sorted({row["out_dir"] for row in found})
    if len(folders) > 1:
        raise InputError(f"{ref!r} names {len(folders)} run folders ({', '.join(folders[:3])}): give its path or "
                         f"its ledger id")
    return found[0]


def _refuse_repeats(chosen: list[dict[str, Any]]) -> None:
    """InputError when one run is named twice (by id and by folder, say): it would tie itself on every row."""
    seen: set[int] = set()
    for row in chosen:
        if row["id"] in seen:
            raise InputError(f"run #{row['id']} is named twice: compare it with another run")
        seen.add(row["id"])


def _same_data(base: dict[str, Any], other: dict[str, Any]) -> None:
    """InputError naming both runs when they ran on different data (the ledger's data hash)."""
    if not base["data_hash"] or base["data_hash"] != other["data_hash"]:
        raise InputError(f"runs #{base['id']} and #{other['id']} are on different rows: their data differ "
                         f"(#{base['id']}: {base['data_ref']} [{(base['data_hash'] or '?')[:8]}], "
                         f"#{other['id']}: {other['data_ref']} [{(other['data_hash'] or '?')[:8]}])")


def _same_ids(base: dict[str, Any], ids: list[str], other: dict[str, Any], other_ids: list[str]) -> None:
    """InputError naming both runs when their submissions hold different ids (a `--rows` run covers a part)."""
    only_base = [i for i in ids if i not in set(other_ids)]
    only_other = [i for i in other_ids if i not in set(ids)]
    if only_base or only_other:
        first = (f"first only in #{base['id']}: {only_base[0]!r}" if only_base
                 else f"first only in #{other['id']}: {only_other[0]!r}")
        raise InputError(f"runs #{base['id']} and #{other['id']} are on different rows: #{base['id']} has "
                         f"{len(ids)}, #{other['id']} {len(other_ids)}, {len(only_base) + len(only_other)} not "
                         f"shared ({first}; a --rows run covers only the first rows)")


@dataclass(frozen=True)
class _Recorded:
    """What a run's folder holds for pairing: its pack, its own resolved config, its submission and ids."""

    pack: Any
    config: Any
    submission: Path
    ids: list[str]


def _load(row: dict[str, Any]) -> _Recorded:
    """The run's pack, config and submission ids, from the run folder the ledger names (no scoring yet)."""
    from kit.artefacts import RunConfig
    from kit.config import config_from_dict
    from kit.pack import get_pack
    from kit.tables import read_rows

    out = Path(row["out_dir"])
    try:
        recorded = RunConfig.load(out)
    except InputError as exc:
        raise InputError(f"run #{row['id']}: {exc.message}", hint="the run folder was moved or deleted") from None
    cfg = config_from_dict(recorded.kit_config, source=str(out / RunConfig.FILE_NAME))
    pack = get_pack(cfg.competition.slug)
    submission = out / pack.submission.file_name
    if not submission.is_file():
        raise InputError(f"run #{row['id']}: its submission {submission} is gone")
    ids = [r[pack.submission.columns[0]] for r in read_rows(submission, required=pack.submission.columns)]
    return _Recorded(pack, cfg, submission, ids)


def _scores(row: dict[str, Any], run: _Recorded, ids: list[str]) -> RunScores:
    """The run's per-row scores in `ids` order, checked against the score the ledger recorded for it."""
    # Computed now from the run's recorded submission and the labels it was scored against, not stored at
    # run time: every run the ledger ever recorded can be compared (no schema change, nothing added to
    # run-local's hot path), and recomputing is checked, below, to reproduce the recorded score, so changed
    # labels, an edited submission or another scorer are refused instead of paired silently.
    if row["score"] is None:
        raise InputError(f"run #{row['id']} has no recorded score (its data had no labels): nothing to pair")
    labels = Path(row["data_ref"]) / run.pack.kernel.labels_file
    if not labels.is_file():
        raise InputError(f"run #{row['id']}: the labels it was scored against are gone: {labels}",
                         hint="a relative --data is recorded as given: run kit compare where the run started")
    by_id = run.pack.row_scores(run.submission, labels, config=run.config)
    unscored = [i for i in ids if i not in by_id]
    if unscored:  # the pack's hook broke its contract: name it, not the user's run
        raise ConfigError(f"the {run.pack.slug} pack's row_scores gave no score for {len(unscored)} id(s) of "
                          f"run #{row['id']}, first: {unscored[0]!r}")
    values = [float(by_id[i]) for i in ids]
    mean = math.fsum(values) / len(values)
    if abs(mean - row["score"]) > SCORE_TOLERANCE:
        raise InputError(f"run #{row['id']}: its per-row scores average {mean:.6f} now, the ledger recorded "
                         f"{row['score']:.6f}: the labels ({labels}), the submission or the scorer changed since "
                         f"the run", hint=f"the run was scored with: {row['scorer'] or 'the pack default'}")
    return RunScores(row["id"], row["template"], str(run.submission.parent), float(row["score"]), len(values),
                     row["rows_per_second"], values)


def _rate(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "-"


def describe(result: Comparison) -> str:
    """The table `kit compare` prints: the baseline, then each run against it."""
    base = result.baseline
    lines = [f"baseline {base.label}: score {base.score:.4f} over {len(result.ids)} rows (data {result.data_ref}, "
             f"hash {result.data_hash[:8]}), {_rate(base.rows_per_second)} rows/s"]
    head = ("run", "score", f"vs #{base.id}", "95% CI", "wins", "losses", "ties", "rows/s")
    table = [(v.run.label, f"{v.run.score:.4f}", f"{v.difference.mean:+.4f}",
              f"[{v.difference.ci_low:+.4f}, {v.difference.ci_high:+.4f}]", str(v.wins), str(v.losses),
              str(v.ties), _rate(v.run.rows_per_second)) for v in result.others]
    widths = [max(len(r[i]) for r in [head, *table]) for i in range(len(head))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [head, *table]]
    lines.append(f"{result.statistic}; wins: rows the run scores higher than the baseline")
    if result.plot:
        lines.append(f"plot: {result.plot}")
    return "\n".join(lines)


def plot(result: Comparison, path: Path) -> Path:
    """Each run's mean difference from the baseline with its 95% CI (left), and its per-row differences sorted
    (right: how many rows it wins, ties and loses, and by how much); written as PNG."""
    import matplotlib

    matplotlib.use("Agg")  # files only: never needs a display
    import matplotlib.pyplot as plt

    base = result.baseline
    fig, (forest, rows) = plt.subplots(1, 2, figsize=(12, 1.6 + 0.5 * len(result.others) + 2.4),
                                       gridspec_kw={"width_ratios": [2, 3]})
    for y, v in enumerate(result.others):
        d = v.difference
        forest.errorbar([d.mean], [y], xerr=[[d.mean - d.ci_low], [d.ci_high - d.mean]], fmt="o", capsize=4)
        diffs = sorted(x - b for x, b in zip(v.run.row_scores, base.row_scores, strict=True))
        rows.plot(range(1, len(diffs) + 1), diffs, drawstyle="steps-mid",
                  label=f"{v.run.label}: {v.wins} wins, {v.ties} ties, {v.losses} losses")
    forest.axvline(0, color="grey", linestyle=":")
    forest.set_yticks(range(len(result.others)), [v.run.label for v in result.others])
    forest.invert_yaxis()
    forest.set_xlabel(f"mean difference from {base.label} (95% CI)")
    forest.grid(alpha=0.3)
    rows.axhline(0, color="grey", linestyle=":")
    rows.set_xlabel("rows, sorted by difference")
    rows.set_ylabel(f"score - score of {base.label}")
    rows.grid(alpha=0.3)
    rows.legend(fontsize=8)
    fig.suptitle(f"paired differences vs {base.label} on the same {len(result.ids)} rows "
                 f"({result.data_ref}, data {result.data_hash[:8]})", fontsize=10)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path

