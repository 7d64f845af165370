"""`kit history`: submissions and local experiments as tables, JSON objects, a score plot, and a sync with Kaggle.

A submission is linked to the local experiment (`kit run-local`) that ran the same kernel content (the content
key of kit/chain/experiments.py); its `local` score is that experiment's score. Sandbox and real submissions are
never listed together: with no flag the real ones are listed, or the sandbox ones, saying so, when there are no real
ones yet. Sandbox scores are the local emulator's (the pack's scorer), never Kaggle's, and every view says so.

Light on purpose: no torch, no kaggle import at module level; matplotlib is imported only by `plot`.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kit.artefacts import SubmissionRow, SubmissionStatus
from kit.errors import InputError

if TYPE_CHECKING:
    from kit.kaggle.client import ChainClient

FIELDS = ("id", "time", "competition", "sandbox", "origin", "status", "public_score", "private_score",
          "local_score", "kernel_ref", "kernel_version", "template", "parameters", "adapter_ref", "adapter_version",
          "wheels_ref", "wheels_version", "base_model_source", "git_sha", "git_dirty", "kit_version",
          "submission_ref", "message", "error", "content_key", "local_experiment")
_MARKER = re.compile(r"\[kit (\S+)/(\d+)\]")  # what kit.chain.submit.marker writes
SANDBOX_LABEL = "sandbox emulator, not Kaggle"


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if ts else None


def to_object(row: dict[str, Any]) -> dict[str, Any]:
    """A ledger row as the public submission object of `kit history --json`."""
    try:
        decoded = SubmissionRow.from_row(row).to_dict()
    except ValueError as exc:  # a row an older kit or a hand edit left: one line, not a traceback
        raise InputError(f"ledger row #{row.get('id')}: {exc}") from None
    obj = {k: decoded.get(k) for k in FIELDS if k in decoded or k == "time"}
    obj["type"] = "submission"
    obj["time"] = _iso(decoded["created_at"])
    obj["status"] = decoded["status"].value
    return obj


def history(competition: str | None, *, order: str = "time", sandbox: bool | None = None,
            ledger: Any = None) -> list[dict[str, Any]]:
    """Submission objects, best first (`order='best'`) or newest first."""
    from kit.ledger import Ledger

    if order not in ("best", "time"):
        raise InputError(f"unknown order {order!r} (use best or time)")
    led = ledger or Ledger()
    try:
        objs = []
        for row in led.submission_rows(competition, sandbox=sandbox, order=order):
            obj = to_object(row)
            measured = led.local_experiment_of(row.get("content_key"))
            obj["local_experiment"] = measured["id"] if measured else None
            if measured:  # the score measured for exactly this content, newest run
                obj["local_score"] = measured["score"]
            objs.append(obj)
        return objs
    finally:
        if ledger is None:
            led.close()


def local_history(ledger: Any = None, kind: str | None = None) -> list[dict[str, Any]]:
    """Local experiment objects (`kit run-local` runs, `kit train` validations), newest first."""
    from kit.chain.experiments import to_object as experiment_object
    from kit.ledger import Ledger

    led = ledger or Ledger()
    try:
        return [experiment_object(r) for r in led.local_experiments(kind)]
    finally:
        if ledger is None:
            led.close()


def _fmt(value: Any, spec: str = "") -> str:
    if value is None:
        return "-"
    return format(value, spec) if spec else str(value)


def format_table(objs: list[dict[str, Any]]) -> str:
    """A fixed-width table for people; the error text (first line) is shown for failed attempts."""
    if not objs:
        return "no submissions recorded yet (run `kit submit`, or `kit history --sync` to import Kaggle's list)"
    head = ("#", "time (UTC)", "where", "status", "public", "private", "local", "run", "kernel", "template",
            "adapter", "git")
    lines = []
    for o in objs:
        kernel = f"v{o['kernel_version']}" if o.get("kernel_version") is not None else "-"
        adapter = f"v{o['adapter_version']}" if o.get("adapter_version") is not None else "-"
        git = (o.get("git_sha") or "-")[:8] + ("*" if o.get("git_dirty") else "")
        where = "sandbox" if o["sandbox"] else ("kaggle" if o.get("origin") != "kaggle" else "kaggle(ext)")
        lines.append((str(o["id"]), (o["time"] or "-").replace("T", " ").rstrip("Z"), where, o["status"],
                      _fmt(o.get("public_score"), ".4f"), _fmt(o.get("private_score"), ".4f"),
                      _fmt(o.get("local_score"), ".4f"),
                      f"#{o['local_experiment']}" if o.get("local_experiment") is not None else "-",
                      kernel, _fmt(o.get("template")), adapter, git))
    widths = [max(len(r[i]) for r in [head, *lines]) for i in range(len(head))]
    out = ["  ".join(c.ljust(w) for c, w in zip(head, widths, strict=True)).rstrip()]
    for o, r in zip(objs, lines, strict=True):
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if o.get("error") and o["status"] != SubmissionStatus.COMPLETE:
            out.append(f"    {o['error'].splitlines()[0][:110]}")
    return "\n".join(out)


def format_local_table(objs: list[dict[str, Any]]) -> str:
    """Local experiments as a fixed-width table for people."""
    if not objs:
        return "no local experiments recorded yet (`kit run-local`, `kit train`)"
    head = ("#", "time (UTC)", "kind", "template", "score", "95% CI", "rows", "rows/s", "projected", "out")
    lines = []
    for o in objs:
        ci = f"[{o['score_ci_low']:.4f}, {o['score_ci_high']:.4f}]" if o.get("score_ci_low") is not None else "-"
        proj = f"{o['projected_seconds'] / 3600:.2f} h" if o.get("projected_seconds") is not None else "-"
        lines.append((str(o["id"]), o["time"].replace("T", " ").rstrip("Z"), o["kind"], _fmt(o.get("template")),
                      _fmt(o.get("score"), ".4f"), ci, _fmt(o.get("rows")), _fmt(o.get("rows_per_second"), ".2f"),
                      proj, _fmt(o.get("out_dir"))))
    widths = [max(len(r[i]) for r in [head, *lines]) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [head, *lines])


def where_label(objs: list[dict[str, Any]]) -> str:
    """Whose scores these submissions hold: the sandbox's local emulator or Kaggle (history never mixes them)."""
    return SANDBOX_LABEL if any(o.get("sandbox") for o in objs) else "Kaggle"


def linked_points(objs: list[dict[str, Any]]) -> list[tuple[int, float, float]]:
    """(submission id, local score, public score) of each scored submission linked to a local experiment."""
    return [(o["id"], o["local_score"], o["public_score"]) for o in objs
            if o.get("local_experiment") is not None and o.get("local_score") is not None
            and o.get("public_score") is not None]


def plot(objs: list[dict[str, Any]], path: Path) -> Path:
    """Write `figure(objs)` as a PNG."""
    fig = figure(objs)
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def figure(objs: list[dict[str, Any]]) -> Any:
    """Public score over time (local score beside each point) and, beside it, local against public score with
    one point per linked submission; titles and axes say whose public scores they are (the sandbox's or Kaggle's)."""
    scored = sorted((o for o in objs if o.get("public_score") is not None), key=lambda o: o["time"] or "")
    if not scored:
        raise InputError("no scored submissions to plot", hint="`kit history --sync` fills scores from Kaggle")
    import matplotlib

    matplotlib.use("Agg")  # files only: never needs a display
    import matplotlib.pyplot as plt

    times = [datetime.strptime(o["time"], "%Y-%m-%dT%H:%M:%SZ") for o in scored]
    where = where_label(scored)
    fig, (ax, cv) = plt.subplots(1, 2, figsize=(13, 4.5), gridspec_kw={"width_ratios": [3, 2]})
    _scatter(cv, linked_points(scored), where)
    ax.plot(times, [o["public_score"] for o in scored], "o-", label=f"public score ({where})")
    local = [(t, o["local_score"]) for t, o in zip(times, scored, strict=True) if o.get("local_score") is not None]
    if local:
        ax.plot([t for t, _ in local], [s for _, s in local], "s--", alpha=0.7, label="local score (linked run-local)")
    for t, o in zip(times, scored, strict=True):
        if o.get("kernel_version") is not None:
            ax.annotate(f"v{o['kernel_version']}", (t, o["public_score"]), textcoords="offset points",
                        xytext=(0, 6), ha="center", fontsize=7)
    ax.set_xlabel("submission time (UTC)")
    ax.set_ylabel("score")
    ax.set_title(f"{scored[0]['competition']}: public vs local score ({where})")
    ax.grid(alpha=0.3)
    ax.legend()
    for label in ax.get_xticklabels():
        label.set_rotation(30)
        label.set_horizontalalignment("right")
    return fig


def _scatter(ax: Any, points: list[tuple[int, float, float]], where: str) -> None:
    """Local (x) against public (y) score, one labelled point per linked submission, with the y = x line."""
    ax.set_xlabel("local score (kit run-local, same kernel content)")
    ax.set_ylabel(f"public score ({where})")
    ax.set_title(f"local vs public ({where})")
    ax.grid(alpha=0.3)
    if not points:
        ax.text(0.5, 0.5, "no submission linked to a local run yet", ha="center", va="center",
                transform=ax.transAxes, fontsize=9)
        return
    xs, ys = [p[1] for p in points], [p[2] for p in points]
    ax.scatter(xs, ys, zorder=3)
    for sub_id, x, y in points:
        ax.annotate(f"#{sub_id}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    low, high = min(xs + ys), max(xs + ys)
    pad = (high - low) * 0.1 or 0.05
    ax.plot([low - pad, high + pad], [low - pad, high + pad], ":", color="grey", label="local = public")
    ax.legend(fontsize=8)


def _timestamp(value: Any) -> float | None:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def _kit_row(led: Any, competition: str, sandbox: bool, description: str) -> dict[str, Any] | None:
    """The kit attempt a submission's `[kit owner/slug/N]` tag points at, when it has no submission ref yet."""
    found = _MARKER.search(description)
    if not found:
        return None
    ref, version = found.group(1), int(found.group(2))
    for row in led.submission_rows(competition, sandbox=sandbox):
        if row["kernel_ref"] == ref and row["kernel_version"] == version and row["submission_ref"] is None:
            return row
    return None


def sync_submissions(client: ChainClient, competition: str, *, sandbox: bool, ledger: Any = None) -> dict[str, int]:
    """Pull Kaggle's submission list: fill statuses and scores of known rows, add submissions made elsewhere."""
    from kit.kaggle.results import score_value, status_name
    from kit.ledger import Ledger

    led = ledger or Ledger()
    added = updated = 0
    try:
        for sub in client.submissions(competition):
            state = status_name(sub.status)
            fields = {"status": SubmissionStatus.from_kaggle(state),
                      "public_score": score_value(sub.public_score), "private_score": score_value(sub.private_score)}
            if getattr(sub, "error", None):
                fields["error"] = sub.error
            row = led.submission_by_ref(competition, sub.ref, sandbox=sandbox) or _kit_row(
                led, competition, sandbox, getattr(sub, "description", "") or "")
            if row is not None and row.get("submission_ref") is None:  # ours, interrupted before recording it
                led.update_submission(row["id"], submission_ref=sub.ref)
                row = led.get_submission(row["id"])
            if row is None:
                new = led.add_submission(competition, fields.pop("status"), sandbox=sandbox, origin="kaggle",
                                         submission_ref=sub.ref, message=getattr(sub, "description", None), **fields)
                when = _timestamp(getattr(sub, "date", None))
                if when:
                    led.update_submission(new, created_at=when)
                added += 1
            elif any(row.get(k) != v for k, v in fields.items()):
                led.update_submission(row["id"], **fields)
                updated += 1
    finally:
        if ledger is None:
            led.close()
    return {"added": added, "updated": updated}


def show(config: Any, *, order: str = "time", plot_path: Path | None = None, sync: bool = False,
         sandbox: bool | None = None, client: Any = None, ledger: Any = None, local: bool = True,
         submissions: bool = True) -> tuple[list[dict[str, Any]], list[str]]:
    """What `kit history` prints: optionally sync first, list submissions (sandbox or real ones, never both; with
    neither `sandbox` nor KIT_KAGGLE the real ones, or the sandbox ones, with a note, when there are none) and local
    experiments, optionally plot. Returns (objects, notes); each object's `type` says which it is."""
    from kit.kaggle.sandbox import sandbox_mode

    sb = sandbox_mode(sandbox)
    competition = config.competition.slug
    notes: list[str] = []
    if sync:
        if client is None:
            from kit.kaggle.client import kaggle_client

            client = kaggle_client(config, sandbox=sb)
        counts = sync_submissions(client, competition, sandbox=sb, ledger=ledger)
        notes.append(f"synced with {'the sandbox' if sb else 'Kaggle'}: {counts['added']} added, "
                     f"{counts['updated']} updated")
    subs = history(competition, order=order, sandbox=sb, ledger=ledger)
    if not subs and sandbox is None and not sb:  # nothing real yet: the sandbox rows rather than "nothing"
        subs = history(competition, order=order, sandbox=True, ledger=ledger)
        if subs:
            notes.append(f"no Kaggle submissions recorded: listing the {len(subs)} sandbox submission(s), scored "
                         "by the local emulator, not Kaggle (`kit history --sandbox` lists them directly)")
    if plot_path is not None:
        notes.append(f"wrote {plot(subs, plot_path)} ({len(linked_points(subs))} linked submission(s))")
    return (subs if submissions else []) + (local_history(ledger) if local else []), notes


def format_all(objs: list[dict[str, Any]], *, local: bool = True, submissions: bool = True) -> str:
    """The tables `kit history` prints: submissions, then local experiments."""
    parts = []
    if submissions:
        subs = [o for o in objs if o.get("type") == "submission"]
        parts.append((f"submissions ({where_label(subs)})\n" if subs else "") + format_table(subs))
    if local:
        parts.append("local experiments\n" + format_local_table([o for o in objs if o.get("type") == "local"]))
    return "\n\n".join(parts)
