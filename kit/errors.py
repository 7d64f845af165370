"""The kit's error tree.

Library code raises a `KitError` subclass; the CLI catches it at one boundary, prints one line and exits
with the subclass's code, so scripts can tell failures apart. `KIT_DEBUG=1` shows the traceback.
"""

from __future__ import annotations


class KitError(Exception):
    """Base of every error the kit reports to a user: one line, a distinct exit code."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(KitError):
    """kit.toml is missing, malformed, or holds a bad value; or a flag's value is invalid."""

    exit_code = 3


class InputError(KitError):
    """A data file (CSV, parquet, adapter folder) is missing or does not have the expected shape."""

    exit_code = 4


class MissingDependencyError(KitError):
    """An optional dependency (bitsandbytes, CUDA, a model folder) is not available here."""

    exit_code = 5


class KaggleError(KitError):
    """Kaggle (or the sandbox emulator) refused or failed a request."""

    exit_code = 6


class KaggleAuthError(KaggleError):
    """No credentials, or credentials rejected (401)."""

    exit_code = 7


class KaggleNotFoundError(KaggleError):
    """A slug, dataset, kernel or competition does not exist (404)."""

    exit_code = 8


class KaggleRateLimitError(KaggleError):
    """Too many requests (429) even after the retries."""

    exit_code = 9


class DailyLimitError(KaggleError):
    """No submissions left today for this competition."""

    exit_code = 10


class KernelFailedError(KaggleError):
    """A pushed kernel ended in ERROR or was cancelled."""

    exit_code = 11


class SubmissionError(KaggleError):
    """A submission was refused, failed scoring, or its output file is invalid."""

    exit_code = 12


class NotJoinedError(KaggleError):
    """The account has not joined the competition (GetSubmissionLimits answers all zero)."""

    exit_code = 17


class RulesNotAcceptedError(KaggleError):
    """The competition's rules are not accepted (403); only the website can accept them."""

    exit_code = 18


class SubmissionsClosedError(KaggleError):
    """The competition accepts no more submissions (ended, late submissions closed)."""

    exit_code = 19


class WaitTimeoutError(KitError):
    """A wait (dataset READY, kernel run, scoring) ran past its overall timeout."""

    exit_code = 13


class NotebookError(KitError):
    """A notebook failed to render or execute."""

    exit_code = 14


class DirtyTreeError(KitError):
    """The git tree has uncommitted changes and the command needs a clean one."""

    exit_code = 15


class TrainingError(KitError):
    """Training could not run or produced no usable adapter."""

    exit_code = 16


class AlreadySubmittedError(KitError):
    """This kernel content already has a scored or pending submission (`kit submit --force` to send it again)."""

    exit_code = 20


EXIT_CODES: dict[str, int] = {
    cls.__name__: cls.exit_code
    for cls in (
        KitError,
        ConfigError,
        InputError,
        MissingDependencyError,
        KaggleError,
        KaggleAuthError,
        KaggleNotFoundError,
        KaggleRateLimitError,
        DailyLimitError,
        KernelFailedError,
        SubmissionError,
        WaitTimeoutError,
        NotebookError,
        DirtyTreeError,
        TrainingError,
        NotJoinedError,
        RulesNotAcceptedError,
        SubmissionsClosedError,
        AlreadySubmittedError,
    )
}
