"""The tool sandbox: model-written Python run in a separate, limited, isolated process (see runner.py for what
holds where)."""

from kit.packs.aimo.sandbox.config import KAGGLE_PROTECT, SandboxConfig
from kit.packs.aimo.sandbox.pool import ToolPool, ToolSession
from kit.packs.aimo.sandbox.result import ToolResult

__all__ = ["KAGGLE_PROTECT", "SandboxConfig", "ToolPool", "ToolResult", "ToolSession"]
