"""What KaggleClient returns: small plain records, independent of the official client's types."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass
class DatasetPush:
    ref: str
    version: int | None
    content_hash: str
    skipped: bool = False
    status: str = "ready"
    files: tuple[str, ...] = ()
    size_bytes: int = 0
    seconds: float = 0.0


@dataclass
class KernelPush:
    ref: str
    version: int
    url: str = ""


@dataclass
class SubmissionLimits:
    num_allowed_now: int
    num_today: int
    num_total: int = 0

    @property
    def not_joined(self) -> bool:
        """Every count zero: kagglesdk's ApiSubmissionLimits says "empty/zeros if the user is not on a team yet"."""
        return self.num_allowed_now == 0 and self.num_today == 0 and self.num_total == 0


@dataclass
class Submission:
    ref: int
    status: str                       # PENDING | COMPLETE | ERROR
    public_score: float | None
    private_score: float | None
    error: str
    description: str
    date: str
    file_name: str = ""


@dataclass
class LeaderboardEntry:
    team_name: str
    score: float | None  # None: a team without a public score yet
    rank: int


def score_value(value: Any) -> float | None:
    """A score as a float: Kaggle sends scores as strings, and blank or unparsable means not scored."""
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def status_name(value: Any) -> str:
    """Normalise an enum or string status ('KernelWorkerStatus.COMPLETE', 'complete') to 'COMPLETE'."""
    text = str(getattr(value, "name", value)).rsplit(".", 1)[-1].upper()
    return {"CANCELACKNOWLEDGED": "CANCEL_ACKNOWLEDGED", "CANCELREQUESTED": "CANCEL_REQUESTED"}.get(text, text)


def to_submission(s: Any) -> Submission:
    return Submission(ref=int(s.ref or 0), status=s.status.name, public_score=score_value(s.public_score),
                      private_score=score_value(s.private_score), error=s.error_description or "",
                      description=s.description or "", date=str(s.date or ""), file_name=s.file_name or "")


def log_text(raw: str) -> str:
    """Kaggle logs are a JSON list of {stream_name, time, data}; return the joined data (raw text otherwise)."""
    try:
        entries = json.loads(raw)
    except (TypeError, ValueError):
        return raw or ""
    if not isinstance(entries, list):
        return raw
    return "".join(str(e.get("data", "")) for e in entries if isinstance(e, dict))


