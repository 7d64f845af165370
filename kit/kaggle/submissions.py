"""Competition calls of KaggleClient: submission limits, code submissions (reconciled, never repeated blindly),
scores, and the paged listings (submissions, leaderboard). A mixin: it uses the host's `_call`, `_create`,
`_sdk`, `_wait` and `kernel_status`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kit.errors import KaggleError, KaggleNotFoundError, SubmissionError, SubmissionsClosedError
from kit.kaggle.results import LeaderboardEntry, Submission, SubmissionLimits, score_value, to_submission

PAGE_SIZE = 100
MAX_PAGES = 1000  # 100,000 rows: a bound against a server that keeps answering the same token


class SubmissionCalls:
    """The competition side of KaggleClient."""

    api: Any
    _call: Any
    _create: Any
    _sdk: Any
    _wait: Any
    kernel_status: Any

    def submission_limits(self, competition: str) -> SubmissionLimits:
        """Today's submission counts (all zero: the account has not joined; see SubmissionLimits.not_joined)."""
        resp = self._call(f"submission limits {competition}", self.api.competition_get_submission_limits,
                          competition, slug=competition)
        return SubmissionLimits(int(resp.num_allowed_now or 0), int(resp.num_today or 0), int(resp.num_total or 0))

    def submit_code(self, competition: str, kernel_ref: str, version: int, file_name: str, message: str) -> int:
        """Create a code submission for one kernel version; returns the submission ref.

        A lost answer is looked up (a new submission with this description) rather than repeated, so a retry
        never spends a second submission."""
        what = f"submit {kernel_ref} v{version} to {competition}"
        before = {s.ref for s in self.submissions(competition)}

        def lookup() -> Any:
            new = [s for s in self.submissions(competition) if s.ref not in before and s.description == message]
            return new[0] if new else None

        try:
            resp = self._create(what, self.api.competition_submit_code, lookup, file_name, message,
                                competition=competition, kernel=kernel_ref, kernel_version=version, quiet=True,
                                slug=competition)
        except KaggleNotFoundError:
            raise self._closed_or_missing(what, competition, kernel_ref, version) from None
        if isinstance(resp, Submission):
            return resp.ref
        if not resp.ref:
            raise SubmissionError(f"Kaggle did not accept the submission: {resp.message or 'no reason given'}")
        return int(resp.ref)

    def _closed_or_missing(self, what: str, competition: str, kernel_ref: str, version: int) -> KaggleError:
        """Kaggle answers 404 both for a missing kernel version and for a competition that takes no more
        submissions (the official client's own hint names both): tell them apart by looking the version up."""
        try:
            self.kernel_status(kernel_ref, version)
        except KaggleNotFoundError:
            return KaggleNotFoundError(f"{what}: kernel {kernel_ref} version {version} not found",
                                       hint="push the kernel again (`kit submit` pushes before submitting)")
        return SubmissionsClosedError(
            f"{what}: {competition} is not accepting submissions (it has ended and late submissions are closed)",
            hint=f"check https://www.kaggle.com/competitions/{competition}; nothing was spent")

    def get_submission(self, ref: int, *, pending_on_404: bool = False) -> Submission:
        """One submission's status and scores. `pending_on_404`: right after a code submission Kaggle may not
        find it yet; report PENDING, as the official client's `_poll_submission` does."""
        try:
            return to_submission(self._call(f"submission {ref}", self.api.get_submission, int(ref)))
        except KaggleNotFoundError:
            if not pending_on_404:
                raise
            return Submission(int(ref), "PENDING", None, None, "", "", "")

    def wait_submission(self, ref: int, *, timeout: float, poll: float = 30.0) -> Submission:
        """Wait until a submission is scored; ERROR raises SubmissionError with Kaggle's description."""
        box: dict[str, Submission] = {}

        def probe() -> tuple[str, bool]:
            box["sub"] = sub = self.get_submission(ref, pending_on_404=True)
            if sub.status == "ERROR":
                raise SubmissionError(f"submission {ref} failed: {sub.error or 'no description'}")
            return sub.status, sub.status == "COMPLETE"

        self._wait(f"submission {ref}", probe, timeout, poll)
        return box["sub"]

    def _pages(self, what: str, method: str, request: Any, competition: str) -> Iterator[Any]:
        """Every item of a paged competition listing (Kaggle pages by 20 unless asked; follows nextPageToken)."""
        token, seen = "", set()
        for _ in range(MAX_PAGES):
            request.page_token = token
            answer = self._call(what, self._sdk, "competitions.competition_api_client", method, request,
                                slug=competition)
            yield from answer.submissions or []
            token = answer.next_page_token or ""
            if not token or token in seen:
                return
            seen.add(token)

    def submissions(self, competition: str) -> list[Submission]:
        """This account's submissions to `competition`, newest first, every page."""
        from kagglesdk.competitions.types.competition_api_service import ApiListSubmissionsRequest

        request = ApiListSubmissionsRequest()
        request.competition_name, request.page_size = competition, PAGE_SIZE
        return [to_submission(s) for s in self._pages(f"submissions {competition}", "list_submissions", request,
                                                      competition)]

    def leaderboard(self, competition: str) -> list[LeaderboardEntry]:
        """The whole public leaderboard, best first (every page)."""
        from kagglesdk.competitions.types.competition_api_service import ApiGetLeaderboardRequest

        request = ApiGetLeaderboardRequest()
        request.competition_name, request.page_size = competition, PAGE_SIZE
        rows = self._pages(f"leaderboard {competition}", "get_leaderboard", request, competition)
        return [LeaderboardEntry(r.team_name, score_value(r.score), i) for i, r in enumerate(rows, 1)]

