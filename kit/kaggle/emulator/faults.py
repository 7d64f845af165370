"""Fault injection, switchable per test: rules live in `<state>/faults.json` (edit the file or POST
`/_admin/faults`), so a running server picks them up on the next request.

A rule is a dict:
  {"method": "GetDatasetStatus" | "*", "status": 429|500|404|..., "retry_after": 0.2, "message": "...", "times": 1}
      answer that RPC (or any) with an HTTP error; `times` counts uses (null: until cleared)
  {"method": "CreateCodeSubmission", "status": 503, "after": true}
      perform the call, then answer the error: the server acted but the client cannot know it
  {"method": "SaveKernel", "drop": true}
      perform the call, then close the connection without an answer (a connection lost mid-call)
  {"kind": "dataset_failed" | "dataset_quota" | "kernel_error" | "submission_error" | "daily_limit",
   "message": "...", "times": 1}
      make the next dataset version FAILED, refuse the next create/version for quota (status "error"), the next
      kernel run ERROR, the next scoring ERROR, or report the daily submission limit as reached
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from kit.files import write_json

KINDS = ("dataset_failed", "dataset_quota", "kernel_error", "submission_error", "daily_limit")


class Faults:
    """The rule list on disk, consumed under a lock."""

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / "faults.json"
        self.lock = threading.Lock()

    def _read(self) -> list[dict[str, Any]]:
        try:
            rules = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return []
        return rules if isinstance(rules, list) else []

    def _write(self, rules: list[dict[str, Any]]) -> None:
        write_json(self.path, rules, indent=1)

    def add(self, rules: list[dict[str, Any]] | dict[str, Any]) -> list[dict[str, Any]]:
        """Append rules (validated) and return the whole list."""
        new = [rules] if isinstance(rules, dict) else list(rules)
        for rule in new:
            if "kind" in rule and rule["kind"] not in KINDS:
                raise ValueError(f"unknown fault kind {rule['kind']!r} (known: {', '.join(KINDS)})")
            if "kind" not in rule and "status" not in rule and not rule.get("drop"):
                raise ValueError("a fault needs 'kind', 'status' or 'drop'")
        with self.lock:
            rules_now = self._read() + new
            self._write(rules_now)
            return rules_now

    def clear(self) -> None:
        with self.lock:
            self._write([])

    def list(self) -> list[dict[str, Any]]:
        with self.lock:
            return self._read()

    def take(self, *, method: str | None = None, kind: str | None = None, peek: bool = False) -> dict | None:
        """The first rule matching this RPC method or fault kind, with one use consumed (unless `peek`)."""
        with self.lock:
            rules = self._read()
            for i, rule in enumerate(rules):
                hit = (kind is not None and rule.get("kind") == kind) or (
                    method is not None and ("status" in rule or rule.get("drop"))
                    and rule.get("method", "*") in ("*", method)
                )
                if not hit:
                    continue
                if not peek and rule.get("times") is not None:
                    rule["times"] = int(rule["times"]) - 1
                    if rule["times"] <= 0:
                        rules.pop(i)
                    self._write(rules)
                return dict(rule)
        return None
