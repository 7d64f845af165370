"""A competition's gateway as data: everything that differs between the single-CSV competitions the kit rehearses.

Stdlib only, so the kit can hold and check specs without importing grpc or polars. `repr(spec)` is valid Python:
the kit writes it into a competition's `<prefix>_gateway.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .defaults import DEFAULT_DEADLINE_SECONDS, GRPC_PORTS


@dataclass(frozen=True)
class GatewaySpec:
    """How one competition's gateway feeds `predict`.

    competition: the Kaggle slug; the default data path is /kaggle/input/<competition>/<test_file>.
    module_prefix: names the written modules, e.g. 'aimo_3' -> kaggle_evaluation.aimo_3_inference_server.
    gateway_class, server_class: the class names notebooks import.
    row_id_column: the column sent back as each batch's row ids (and written first in the submission).
    target_column: the name given to bare scalar or unnamed-series predictions; None refuses them at the end.
    rows_per_call: rows in each batch.
    shuffle: shuffle the rows with an OS-entropy seed (a gateway built with use_private_set=True does not).
    deadline_seconds: the per-call deadline.
    first_call_exempt: the first call has no deadline (versions 0.3 and 0.9; from 1.7 it has one).
    predict_columns: the columns passed to predict, in order, one positional argument each; None: all of them.
    ports: the ports tried in order (0.9: 50051 then 60053..60062; 0.3: 50051 only).
    """

    competition: str
    module_prefix: str
    gateway_class: str
    server_class: str
    test_file: str = "test.csv"
    row_id_column: str = "id"
    target_column: str | None = None
    rows_per_call: int = 1
    shuffle: bool = True
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS
    first_call_exempt: bool = True
    predict_columns: tuple[str, ...] | None = None
    ports: tuple[int, ...] = GRPC_PORTS

    def __post_init__(self) -> None:
        for field in ("module_prefix", "gateway_class", "server_class"):
            if not getattr(self, field).isidentifier():
                raise ValueError(f"GatewaySpec.{field} {getattr(self, field)!r} is not a Python identifier")
        if not self.competition or "/" in self.competition:
            raise ValueError(f"GatewaySpec.competition {self.competition!r} is not a competition slug")
        if not self.test_file or "/" in self.test_file:
            raise ValueError(f"GatewaySpec.test_file {self.test_file!r} is not a file name")
        if self.rows_per_call < 1:
            raise ValueError(f"GatewaySpec.rows_per_call must be at least 1, got {self.rows_per_call}")
        if self.deadline_seconds <= 0:
            raise ValueError(f"GatewaySpec.deadline_seconds must be positive, got {self.deadline_seconds}")
        if not self.ports or not all(isinstance(p, int) and 0 < p < 65536 for p in self.ports):
            raise ValueError(f"GatewaySpec.ports {self.ports!r} must be a non-empty tuple of TCP ports")
        if self.predict_columns is not None and not self.predict_columns:
            raise ValueError("GatewaySpec.predict_columns must name at least one column (or be None for all)")

    @property
    def default_data_path(self) -> str:
        """Where the gateway reads the test file on Kaggle."""
        return f"/kaggle/input/{self.competition}/{self.test_file}"
