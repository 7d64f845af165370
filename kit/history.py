"""`kit history`: the submission ledger as a table, JSON objects, a score plot, and a sync with Kaggle.

Light on purpose: no torch, no kaggle import at module level; matplotlib is imported only by `plot`.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kit.errors import InputError

FIELDS = ("id", "time", "competition", "sandbox", "origin", "status", "public_score", "private_score",
          "local_score", "kernel_ref", "kernel_version", "template", "parameters", "adapter_ref", "adapter_version",
          "wheels_ref", "wheels_version", "base_model_source", "git_sha", "git_dirty", "kit_version",
          "submission_ref", "message", "error")
_MARKER = re.compile(r"\[kit (\S+)/(\d+)\]")  # what kit.submit.marker writes
_STATUS = {"COMPLETE": "complete", "ERROR": "error", "PENDING": "pending"}


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if ts else None


def to_object(row: dict[str, Any]) -> dict[str, Any]:
    """A ledger row as the public submission object of `kit history --json`."""
    obj = {k: row.get(k) for k in FIELDS if k in row or k == "time"}
    obj["time"] = _iso(row.get("created_at"))
    obj["sandbox"] = bool(row.get("sandbox"))
    obj["git_dirty"] = None if row.get("git_dirty") is None else bool(row["git_dirty"])
    if isinstance(row.get("parameters"), str):
        try:
            obj["parameters"] = json.loads(row["parameters"])
        except json.JSONDecodeError:
            pass
    return obj


def history(competition: str | None, *, order: str = "time", sandbox: bool | None = None,
            ledger: Any = None) -> list[dict[str, Any]]:
    """Submission objects, best first (`order='best'`) or newest first."""
    from kit.ledger import Ledger

    if order not in ("best", "time"):
        raise InputError(f"unknown order {order!r} (use best or time)")
    led = ledger or Ledger()
    try:
        return [to_object(r) for r in led.submission_rows(competition, sandbox=sandbox, order=order)]
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
    head = ("#", "time (UTC)", "where", "status", "public", "private", "local", "kernel", "template", "adapter",
            "git")
    lines = []
    for o in objs:
        kernel = f"v{o['kernel_version']}" if o.get("kernel_version") is not None else "-"
        adapter = f"v{o['adapter_version']}" if o.get("adapter_version") is not None else "-"
        git = (o.get("git_sha") or "-")[:8] + ("*" if o.get("git_dirty") else "")
        where = "sandbox" if o["sandbox"] else ("kaggle" if o.get("origin") != "kaggle" else "kaggle(ext)")
        lines.append((str(o["id"]), (o["time"] or "-").replace("T", " ").rstrip("Z"), where, o["status"],
                      _fmt(o.get("public_score"), ".4f"), _fmt(o.get("private_score"), ".4f"),
                      _fmt(o.get("local_score"), ".4f"), kernel, _fmt(o.get("template")), adapter, git))
    widths = [max(len(r[i]) for r in [head, *lines]) for i in range(len(head))]
    out = ["  ".join(c.ljust(w) for c, w in zip(head, widths, strict=True)).rstrip()]
    for o, r in zip(objs, lines, strict=True):
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if o.get("error") and o["status"] != "complete":
            out.append(f"    {o['error'].splitlines()[0][:110]}")
    return "\n".join(out)


def plot(objs: list[dict[str, Any]], path: Path) -> Path:
    """Public score over time, with the local validation score beside each point; written as PNG."""
    scored = sorted((o for o in objs if o.get("public_score") is not None), key=lambda o: o["time"] or "")
    if not scored:
        raise InputError("no scored submissions to plot", hint="`kit history --sync` fills scores from Kaggle")
    import matplotlib

    matplotlib.use("Agg")  # files only: never needs a display
    import matplotlib.pyplot as plt

    times = [datetime.strptime(o["time"], "%Y-%m-%dT%H:%M:%SZ") for o in scored]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(times, [o["public_score"] for o in scored], "o-", label="public score")
    local = [(t, o["local_score"]) for t, o in zip(times, scored, strict=True) if o.get("local_score") is not None]
    if local:
        ax.plot([t for t, _ in local], [s for _, s in local], "s--", alpha=0.7, label="local validation score")
    for t, o in zip(times, scored, strict=True):
        if o.get("kernel_version") is not None:
            ax.annotate(f"v{o['kernel_version']}", (t, o["public_score"]), textcoords="offset points",
                        xytext=(0, 6), ha="center", fontsize=7)
    ax.set_xlabel("submission time (UTC)")
    ax.set_ylabel("score")
    ax.set_title(f"{scored[0]['competition']}: public vs local score")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.autofmt_xdate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


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


def sync_submissions(client: Any, competition: str, *, sandbox: bool, ledger: Any = None) -> dict[str, int]:
    """Pull Kaggle's submission list: fill statuses and scores of known rows, add submissions made elsewhere."""
    from kit.kaggle.results import score_value, status_name
    from kit.ledger import Ledger

    led = ledger or Ledger()
    added = updated = 0
    try:
        for sub in client.submissions(competition):
            state = status_name(sub.status)
            fields = {"status": _STATUS.get(state, state.lower()),
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
         sandbox: bool | None = None, client: Any = None, ledger: Any = None) -> tuple[list[dict[str, Any]], list[str]]:
    """What `kit history` prints: optionally sync first, list the rows, optionally plot. Returns (objects, notes)."""
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
    objs = history(competition, order=order, sandbox=True if sb else None, ledger=ledger)
    if plot_path is not None:
        notes.append(f"wrote {plot(objs, plot_path)}")
    return objs, notes
