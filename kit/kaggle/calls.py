"""How KaggleClient calls the official client: read calls retried with backoff (tenacity), creating calls never
repeated blindly, and every failure turned into one KitError line that says what to do.

Creating calls (code submission, kernel push, dataset create/version) are the ones where a dropped connection
or a 5xx leaves the outcome unknown: the server may have acted before the answer was lost. They are reconciled:
look up what the server did (a read call), and try again only when it did nothing. The official client wraps
CreateDataset/CreateDatasetVersion in its own retry loop; `guard_creates` takes those out of it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Any

from kit.errors import (
    DailyLimitError,
    KaggleAuthError,
    KaggleError,
    KaggleNotFoundError,
    KaggleRateLimitError,
    RulesNotAcceptedError,
)

AUTH_HINT = "put kaggle.json in ~/.kaggle (or $KAGGLE_CONFIG_DIR) or set KAGGLE_API_TOKEN; or rehearse with --sandbox"
# The official client methods (kagglesdk names) that create something on the server.
CREATING = frozenset({"create_dataset", "create_dataset_version", "create_dataset_version_by_id",
                      "create_code_submission", "create_submission", "save_kernel", "create_model",
                      "create_model_instance", "create_model_instance_version"})
# 403 texts Kaggle sends when the account has not accepted a competition's rules (kaggle-cli #177, #488;
# mle-bench #29 for downloads).
RULES_TEXTS = ("accept the competition rules", "competitions.participate", "accept this competition's rules",
               "accept this competition\u2019s rules")


def rules_url(competition: str) -> str:
    """The page where a competition's rules are accepted (only the website can; kaggle-cli #104)."""
    return f"https://www.kaggle.com/competitions/{competition}/rules"


def server_message(exc: Exception) -> str:
    """Kaggle's {"message"} of an HTTP error, else the exception text."""
    response = getattr(exc, "response", None)
    try:
        return str(response.json().get("message") or exc)
    except Exception:
        return str(exc)


def status_of(exc: BaseException) -> int:
    """HTTP status of a requests.HTTPError (0 for anything else)."""
    response = getattr(exc, "response", None)
    return int(getattr(response, "status_code", 0) or 0)


def is_transient(exc: BaseException) -> bool:
    """Worth another try for a read call: no connection, 429, or a 5xx."""
    import requests

    if isinstance(exc, requests.ConnectionError):
        return True
    return isinstance(exc, requests.HTTPError) and (status_of(exc) == 429 or status_of(exc) >= 500)


def outcome_unknown(exc: BaseException) -> bool:
    """After a creating call: the server may have acted (connection lost, or a 5xx), so look before retrying."""
    import requests

    return isinstance(exc, requests.ConnectionError) or (
        isinstance(exc, requests.HTTPError) and status_of(exc) >= 500)


def map_http(what: str, code: int, message: str, *, competition: str | None = None,
             retries: int = 0) -> KaggleError:
    """One KitError for an HTTP error answer of Kaggle."""
    low = message.lower()
    if code == 403 and any(t in low for t in RULES_TEXTS):
        comp = competition or "the competition"
        return RulesNotAcceptedError(f"{what}: you have not accepted the rules of {comp} ({message})",
                                     hint=f"accept them at {rules_url(comp)} (the API cannot), then run it again")
    if code == 401:
        return KaggleAuthError(f"{what}: Kaggle refused the credentials (401: {message})", hint=AUTH_HINT)
    if code == 403:
        return KaggleAuthError(f"{what}: this account may not do that (403: {message})",
                               hint="check the owner in the slug and that the competition slug is right")
    if code == 404:
        return KaggleNotFoundError(f"{what}: not found ({message})",
                                   hint="check the owner/slug in kit.toml and that it was pushed")
    if code == 429:
        return KaggleRateLimitError(f"{what}: rate limited by Kaggle after {retries} retries",
                                    hint="wait a few minutes and run it again")
    if "daily submission allowance" in low or "submission limit" in low:
        return DailyLimitError(f"{what}: {message}", hint="no submissions left today; try again after 00:00 UTC")
    return KaggleError(f"{what}: Kaggle answered {code}: {message}")


def map_error(what: str, exc: BaseException, *, where: str, competition: str | None = None,
              retries: int = 0) -> KaggleError:
    """One KitError for any failure of an official-client call."""
    import requests

    if isinstance(exc, requests.HTTPError):
        return map_http(what, status_of(exc), server_message(exc), competition=competition, retries=retries)
    if isinstance(exc, requests.ConnectionError):
        return KaggleError(f"{what}: cannot reach {where}: {type(exc).__name__}",
                           hint="check the network (or `kit emulator serve` for the sandbox)")
    text = str(exc)  # ValueError: the client's own validation, or "Upload unsuccessful"
    if "Cannot access kernel" in text:
        return KaggleNotFoundError(f"{what}: kernel not found or not yours")
    return KaggleError(f"{what}: {text}")


def guard_creates(api: Any) -> None:
    """Make the official client's `with_retry` pass creating calls through unwrapped (it retries connection
    errors, which repeats a create the server may already have done); read calls keep its retry."""
    original = api.with_retry

    def with_retry(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
        if getattr(func, "__name__", "") in CREATING:
            return func
        return original(func, *args, **kwargs)

    api.with_retry = with_retry


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """The official client prints; keep stdout for --json."""
    with contextlib.redirect_stdout(sys.stderr):
        yield
