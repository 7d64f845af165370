"""Competition RPCs of the emulator: code submissions (re-run on the hidden set, scored by the pack),
submission list and limits, leaderboard view and download.

A competition whose view sets `private_reruns = 2` (AIMO) has its kernel run a second time on the private part
alone, and the view scores the two runs together (penalized accuracy); the `hidden_rows` setting serves only the
first rows of each hidden part to views that take `rows`, a rehearsal knob for a CPU that cannot answer the whole
set in a demo's time (Kaggle always serves all of it)."""

from __future__ import annotations

import inspect
import io
import zipfile
from pathlib import Path
from typing import Any

from kit.kaggle.emulator import runner
from kit.kaggle.emulator.blobs import Blobs
from kit.kaggle.emulator.catalog import page
from kit.kaggle.emulator.faults import Faults
from kit.kaggle.emulator.kernels import Kernels, start_thread
from kit.kaggle.emulator.packs import Packs
from kit.kaggle.emulator.state import ApiError, State, iso, require_owner, scoring_run_dir
from kit.mechanisms.base import Rerun, ScoringFailure
from kit.mechanisms.registry import get_mechanism

PRIVATE_RERUN = "private-rerun"  # the second run's folder, beside the first's `run`
SEED_TEAMS = (("Seeded Team Alpha", 0.62), ("Seeded Team Beta", 0.58), ("Seeded Team Gamma", 0.51))
# 403 texts of the real service: before the rules are accepted (kaggle-cli #177), and the permission denial seen
# by accounts that may not take part (kaggle-cli #488, #530).
RULES_SUBMIT = "You cannot submit until you accept the competition rules"
PARTICIPATE_DENIED = "Permission 'competitions.participate' was denied"


class Competitions:
    """The competitions `packs` serves, over `state`: submissions re-run a kernel version of `kernels` on the
    hidden data and are scored by the competition's view; a file submission starts with an upload to `blobs`."""

    def __init__(self, state: State, faults: Faults, packs: Packs, kernels: Kernels, blobs: Blobs) -> None:
        self.state = state
        self.faults = faults
        self.packs = packs
        self.kernels = kernels
        self.blobs = blobs

    def _allowed_now(self, competition: str, user: str) -> int:
        if self.faults.take(kind="daily_limit", peek=True) is not None:
            return 0
        return max(0, int(self.state.config["daily_limit"]) - self.state.submissions_today(competition, user))

    def _may_submit(self, comp: str) -> None:
        """The participation checks Kaggle makes before a submission is created."""
        if self.state.config["participation"] != "joined":  # the rules are accepted on the website only
            raise ApiError(403, RULES_SUBMIT)                 # (kaggle-cli #104); joining is accepting them
        if not self.state.config["submissions_open"]:
            # A closed competition answers 404 "NotFound" (kaggle-cli #21); the official client's 404 hint asks
            # whether "the competition is still accepting submissions".
            raise ApiError(404, "NotFound")

    def create_code_submission(self, user: str, body: dict) -> dict:
        comp = body.get("competitionName", "")
        pack = self.packs.pack(comp)
        self._may_submit(comp)
        ref = f"{body.get('kernelOwner', '')}/{body.get('kernelSlug', '')}"
        number = body.get("kernelVersion")
        version = self.state.kernel_version(ref, int(number) if number else None)
        if version is None:
            raise ApiError(404, f"Kernel '{ref}' version {number or 'latest'} not found")
        require_owner(user, ref.split("/")[0])
        if version["status"] != "COMPLETE":
            raise ApiError(400, f"Kernel version {version['number']} has status {version['status']}; "
                                "only a successfully completed version can be submitted")
        if self._allowed_now(comp, user) <= 0:
            limit = self.state.config["daily_limit"]
            raise ApiError(400, f"Your team has used its daily Submission allowance ({limit}) today, "
                                "please try again tomorrow UTC")
        sub_ref = self.state.next_ref()
        sub = {"ref": sub_ref, "competition": comp, "user": user, "date": iso(), "status": "PENDING",
               "description": body.get("submissionDescription", ""),
               "fileName": body.get("fileName") or pack.submission_file, "kernel": ref,
               "kernelVersion": version["number"], "errorDescription": "", "publicScore": "", "privateScore": ""}
        with self.state.lock:
            self.state.data["submissions"].append(sub)
            self.state.save()
        start_thread(self._score, sub_ref)
        return {"ref": sub_ref, "message": f"Successfully submitted to {comp}"}

    def _score(self, sub_ref: int) -> None:
        sub = self.state.submission(sub_ref)
        version = self.state.kernel_version(sub["kernel"], sub["kernelVersion"])
        run_dir = scoring_run_dir(self.state.root, sub_ref)
        fault = self.faults.take(kind="submission_error")
        if fault is not None:
            self.state.update(sub, status="ERROR", errorDescription=fault.get("message", "Injected scoring failure"))
            return
        view = self.packs.pack(sub["competition"])
        try:
            sizing = hidden_sizing(view, int(self.state.config.get("hidden_rows") or 0))
            out = self._rerun(sub, version, run_dir, view, sizing)
            second = None
            if private_reruns(view) == 2:  # the private part once more, from a fresh folder, scored with the first
                second = self._rerun(sub, version, run_dir.with_name(PRIVATE_RERUN), view,
                                     {**sizing, "part": "private"})
            try:
                scores = view.score(out, **sizing, **({"rerun": second} if second is not None else {}))
            except Exception as exc:
                raise ScoringFailure("Submission Scoring Error", str(exc)) from None
            fields = {"status": "COMPLETE", "publicScore": f"{scores['public']:.5f}",
                      "privateScore": f"{scores['private']:.5f}"}
        except ScoringFailure as exc:
            fields = {"status": "ERROR", "errorDescription": str(exc), "counts": exc.counts}
        except Exception as exc:
            fields = {"status": "ERROR", "errorDescription": f"emulator could not score the submission: {exc}"}
        self.state.update(sub, **fields)

    def _rerun(self, sub: dict, version: dict, run_dir: Path, view: Any, mount_options: dict[str, Any]) -> Path:
        """The competition's mechanism re-runs the kernel on the hidden data (`mount_options`: which part of it,
        how many rows) and hands back the file to score."""
        mechanism = get_mechanism(view.mechanism)
        runs = 0

        def prepared() -> Path:
            nonlocal runs
            if runs:  # the mechanism ran the kernel again: it starts from a fresh folder, as on Kaggle
                self.kernels.prepare(sub["kernel"], version, run_dir, hidden=True, **mount_options)
            runs += 1
            return run_dir

        self.kernels.prepare(sub["kernel"], version, run_dir, hidden=True, **mount_options)
        options = dict(getattr(view, "mechanism_options", {}) or {})
        if self.state.config.get("gateway_startup_limit"):
            options["startup_limit_seconds"] = self.state.config["gateway_startup_limit"]
        comp = sub["competition"]
        rerun = Rerun(run_kernel=lambda: runner.execute_run(prepared()), working_dir=runner.working_dir(run_dir),
                      run_dir=run_dir, file_name=sub["fileName"], options=options,
                      run_beside=lambda gateway: runner.execute_served(prepared(), gateway), competition=comp,
                      competition_dir=run_dir.parent / f"{run_dir.name}-competition-{comp}")
        return mechanism.score_rerun(rerun)

    def get_submission(self, user: str, body: dict) -> dict:
        sub = self.state.submission(int(body.get("ref") or 0))
        if sub is None:
            raise ApiError(404, f"Submission {body.get('ref')} not found")
        return _api_submission(sub)

    def list_submissions(self, user: str, body: dict) -> dict:
        comp = body.get("competitionName", "")
        self.packs.pack(comp)
        if self.state.config["participation"] == "rules_not_accepted":
            raise ApiError(403, PARTICIPATE_DENIED)
        subs = [s for s in self.state.data["submissions"] if s["competition"] == comp and s["user"] == user]
        rows, token = page([_api_submission(s) for s in reversed(subs)], body, int(self.state.config["page_size"]))
        return {"submissions": rows, "nextPageToken": token}

    def get_submission_limits(self, user: str, body: dict) -> dict:
        comp = body.get("competitionName", "")
        self.packs.pack(comp)
        if self.state.config["participation"] == "not_joined":
            return {}  # kagglesdk: "empty/zeros if the user is not on a team yet" (defaults are not sent)
        today = self.state.submissions_today(comp, user)
        total = sum(1 for s in self.state.data["submissions"] if s["competition"] == comp and s["user"] == user)
        if self.faults.take(kind="daily_limit", peek=True) is not None:  # the allowance spent today
            today, total = int(self.state.config["daily_limit"]), max(total, int(self.state.config["daily_limit"]))
        return {"numToday": today, "numTotal": total, "numAllowedNow": self._allowed_now(comp, user),
                "limitedByTotal": False}

    def start_submission_upload(self, user: str, body: dict) -> dict:
        self.packs.pack(body.get("competitionName", ""))
        return self.blobs.start_upload(user, {"name": body.get("fileName"), "contentLength": body.get("contentLength")})

    def create_submission(self, user: str, body: dict) -> dict:
        """A file submission. Every pack here is a code competition, and Kaggle refuses uploaded files there
        after the upload went through with a bare "400 - Bad Request" (kaggle-cli #400, a code competition); the
        exact body is not public, so this message is inferred."""
        comp = body.get("competitionName", "")
        self.packs.pack(comp)
        self._may_submit(comp)
        raise ApiError(400, "Bad Request")

    def _leaderboard(self, comp: str) -> list[dict]:
        pack = self.packs.pack(comp)
        best: dict[str, dict] = {}
        for s in self.state.data["submissions"]:
            if s["competition"] == comp and s["status"] == "COMPLETE":
                if s["user"] not in best or float(s["publicScore"]) > float(best[s["user"]]["score"]):
                    best[s["user"]] = {"teamName": s["user"], "score": s["publicScore"], "submissionDate": s["date"]}
        seeds = getattr(pack, "seed_leaderboard", SEED_TEAMS) if self.state.config["seed_teams"] else ()
        rows = list(best.values()) + [{"teamName": n, "score": f"{v:.5f}", "submissionDate": iso(0)} for n, v in seeds]
        rows.sort(key=lambda r: -float(r["score"]))
        return [{"teamId": 1000 + i, **r} for i, r in enumerate(rows)]

    def get_leaderboard(self, user: str, body: dict) -> dict:
        rows = self._leaderboard(body.get("competitionName", ""))
        rows, token = page(rows, body, int(self.state.config["page_size"]))
        return {"submissions": rows, "nextPageToken": token}

    def download_leaderboard(self, user: str, body: dict) -> bytes:
        comp = body.get("competitionName", "")
        lines = ["Rank,TeamId,TeamName,LastSubmissionDate,Score"]
        for rank, row in enumerate(self._leaderboard(comp), 1):
            lines.append(f"{rank},{row['teamId']},{row['teamName']},{row['submissionDate']},{row['score']}")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr(f"{comp}-publicleaderboard.csv", "\n".join(lines) + "\n")
        return buf.getvalue()


def private_reruns(view: Any) -> int:
    """How many times a scoring re-run runs the competition's private part (AIMO: 2, scored as penalized accuracy
    over both); 1 unless the view says otherwise."""
    return int(getattr(view, "private_reruns", 1) or 1)


def hidden_sizing(view: Any, rows: int) -> dict[str, Any]:
    """The `rows` option for the view's mount and score when the sandbox's `hidden_rows` knob is set and the view
    takes it (a view without it serves its whole hidden set: the knob is a rehearsal aid, not Kaggle's)."""
    if rows <= 0:
        return {}
    takes = all("rows" in inspect.signature(fn).parameters for fn in (view.mount, view.score))
    return {"rows": rows} if takes else {}


def _api_submission(sub: dict) -> dict:
    return {"ref": sub["ref"], "date": sub["date"], "description": sub["description"], "fileName": sub["fileName"],
            "status": sub["status"], "errorDescription": sub["errorDescription"], "publicScore": sub["publicScore"],
            "privateScore": sub["privateScore"], "submittedBy": sub["user"], "teamName": sub["user"],
            "url": f"/submissions/{sub['ref']}", "totalBytes": 0}
