"""Loading a causal LM for inference: device and precision choice, optional 4-bit, an optional LoRA adapter.

The precision is the one the device does well (bf16 on Ampere+, fp16 on T4/P100, fp32 on CPU); weights go straight
to the one GPU they run on. A LoRA adapter is loaded with peft and merged into the weights unless asked not to (or
the base is 4-bit, which cannot be merged). A folder transformers or peft cannot read is the user's input: one
line naming it. The same code runs on the 2024 Kaggle stack (transformers 4.4x, peft 0.11) and today's.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit.errors import InputError, KitError, MissingDependencyError
from kit.llm.memory import is_oom

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedModel:
    """A model ready for inference (eval mode, on its device) with its tokenizer, and what it took."""

    model: Any
    tokenizer: Any
    device: str
    dtype: Any
    seconds: float


def pick_device(device: str | None = None) -> str:
    """`device` when given, else 'cuda' when a GPU is visible, else 'cpu'."""
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def pick_dtype(device: str, dtype: str = "auto") -> Any:
    """torch dtype: 'auto' is fp32 on CPU, bf16 on compute capability >= 8 (Ampere+), else fp16 (T4, P100).

    Compute capability is checked rather than `torch.cuda.is_bf16_supported()`, which reports emulated bf16
    on T4 as supported although it is slow there.
    """
    import torch

    if dtype != "auto":
        try:
            return {"float32": torch.float32, "fp32": torch.float32, "float16": torch.float16,
                    "fp16": torch.float16, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}[dtype]
        except KeyError:
            raise InputError(f"unknown dtype '{dtype}'", hint="use auto, float32, float16 or bfloat16") from None
    if not device.startswith("cuda"):
        return torch.float32
    major, _ = torch.cuda.get_device_capability(torch.device(device))
    return torch.bfloat16 if major >= 8 else torch.float16


def dtype_kwargs(dtype: Any) -> dict[str, Any]:
    """`from_pretrained` keyword for the dtype: `dtype=` in transformers 5.x, `torch_dtype=` in 4.x."""
    import transformers

    major = int(transformers.__version__.split(".")[0])
    return {"dtype": dtype} if major >= 5 else {"torch_dtype": dtype}


def four_bit_kwargs(device: str, dtype: Any) -> dict[str, Any]:
    """`from_pretrained` keywords for NF4 4-bit weights computing in `dtype` on one GPU; a clear error without
    a GPU or without bitsandbytes."""
    import importlib.util

    if not device.startswith("cuda"):
        raise MissingDependencyError("4-bit loading needs a CUDA GPU", hint="set load_in_4bit = false")
    if importlib.util.find_spec("bitsandbytes") is None:
        raise MissingDependencyError("4-bit loading needs bitsandbytes", hint="pip install bitsandbytes")
    from transformers import BitsAndBytesConfig

    quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                               bnb_4bit_compute_dtype=dtype)
    return {"quantization_config": quant, "device_map": {"": device}}


def load_model(
    model_path: str | os.PathLike,
    adapter_path: str | os.PathLike | None = None,
    *,
    device: str | None = None,
    dtype: str = "auto",
    load_in_4bit: bool = False,
    merge: bool = True,
) -> LoadedModel:
    """The causal LM in `model_path` (+ the LoRA adapter in `adapter_path`) and its tokenizer, in eval mode on
    `device` (default: the GPU when there is one) in the precision `dtype` names ('auto': the device's best)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(model_path)
    if not (path / "config.json").exists():
        raise InputError(f"no model at {path} (config.json missing)")
    device = pick_device(device)
    if device == "cuda":
        device = "cuda:0"  # an explicit index for device_map (each worker sees one GPU as cuda:0)
    torch_dtype = pick_dtype(device, dtype)
    started = time.time()
    with unreadable_as_input_error(path):
        tokenizer = AutoTokenizer.from_pretrained(str(path))
    kwargs: dict[str, Any] = dtype_kwargs(torch_dtype)
    if load_in_4bit:
        kwargs.update(four_bit_kwargs(device, torch_dtype))
    elif device.startswith("cuda"):
        kwargs["device_map"] = {"": device}  # straight to this one GPU, no CPU copy of the weights
    with unreadable_as_input_error(path):
        model = AutoModelForCausalLM.from_pretrained(str(path), **kwargs)
    if adapter_path:
        model = with_adapter(model, Path(adapter_path), merge and not load_in_4bit)
    if not load_in_4bit and not device.startswith("cuda"):
        model = model.to(device)
    model.eval()
    seconds = time.time() - started
    log.info("loaded %s on %s (%s) in %.1fs", path.name, device, torch_dtype, seconds)
    return LoadedModel(model=model, tokenizer=tokenizer, device=device, dtype=torch_dtype, seconds=seconds)


def with_adapter(model: Any, adapter: Path, merge: bool) -> Any:
    """`model` with the LoRA adapter in `adapter` applied: merged into the weights, or as a peft wrapper."""
    if not (adapter / "adapter_config.json").exists():
        raise InputError(f"no LoRA adapter at {adapter} (adapter_config.json missing)")
    from peft import PeftModel

    model = PeftModel.from_pretrained(model, str(adapter), config=adapter_config(adapter))
    return model.merge_and_unload() if merge else model


def adapter_config(adapter: Path) -> Any:
    """The adapter's PEFT config, keeping only the keys the installed peft knows.

    An adapter trained with a newer peft records keys (`peft_version`, `alora_invocation_tokens`,
    `qalora_group_size`, ...) that the older peft of a Kaggle image rejects outright, although a plain LoRA
    adapter does not need them. They are dropped with a warning naming them.
    """
    import dataclasses
    import json

    from peft import PEFT_TYPE_TO_CONFIG_MAPPING

    raw = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    cls = PEFT_TYPE_TO_CONFIG_MAPPING[raw.get("peft_type", "LORA")]
    known = {f.name for f in dataclasses.fields(cls)}
    dropped = sorted(k for k in raw if k not in known)
    if dropped:
        log.warning("adapter config keys unknown to this peft, ignored: %s", ", ".join(dropped))
    return cls(**{k: v for k, v in raw.items() if k in known})


@contextlib.contextmanager
def unreadable_as_input_error(folder: Path) -> Iterator[None]:
    """A model folder transformers cannot read (bad config, truncated weights, no tokenizer) is the user's input:
    one line naming the folder, not a traceback. Out-of-memory and the kit's own errors pass through."""
    try:
        yield
    except Exception as exc:
        if isinstance(exc, KitError) or is_oom(exc):
            raise
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise InputError(f"{folder}: cannot load the model ({type(exc).__name__}: {first})") from None
