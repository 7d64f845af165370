"""A key/value cache that grows into reserved room, for the sampled decoding loop.

transformers' DynamicCache appends each step's keys and values by concatenation, which copies a layer's whole cache
every step: with n sampled rows of a few-hundred-token prompt that copy cost a third of a small model's decoding
step on CPU. Here each full-attention layer keeps ROOM positions reserved after its cache and writes a step's
entries in place; the layer's keys and values are views of the filled part, so the model sees the same tensors and
computes the same logits. Anything that replaces the tensors (repeating or selecting rows) is noticed and the room
is re-reserved at the next step. Where transformers has no per-layer caches (4.x), the cache is used as it is.
"""

from __future__ import annotations

from typing import Any

from transformers import cache_utils

ROOM = 64  # positions reserved at a time: one copy of the cache per ROOM steps instead of one per step
_DYNAMIC_LAYER: Any = getattr(cache_utils, "DynamicLayer", None)


class RoomLayer(_DYNAMIC_LAYER or object):
    """A DynamicLayer whose update writes into reserved room instead of concatenating."""

    def update(self, key_states: Any, value_states: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        """Append this step's keys and values (rows x heads x new positions x dim); the filled keys and values."""
        if not self.is_initialized or self.keys.numel() == 0:
            return super().update(key_states, value_states, *args, **kwargs)
        filled, new = self.keys.shape[-2], key_states.shape[-2]
        if not self._has_room(filled + new):
            self.room = (_reserve(self.keys, filled + new + ROOM), _reserve(self.values, filled + new + ROOM))
        keys, values = self.room
        keys[..., filled:filled + new, :] = key_states
        values[..., filled:filled + new, :] = value_states
        self.keys, self.values = keys[..., :filled + new, :], values[..., :filled + new, :]
        return self.keys, self.values

    def _has_room(self, length: int) -> bool:
        """True when the current keys are the start of the reserved room and `length` positions fit in it."""
        room = getattr(self, "room", None)
        return (room is not None and room[0].data_ptr() == self.keys.data_ptr()
                and room[0].shape[:2] == self.keys.shape[:2] and length <= room[0].shape[-2])


def _reserve(filled: Any, length: int) -> Any:
    """A tensor like `filled` with `length` positions, starting with a copy of `filled`."""
    room = filled.new_empty(*filled.shape[:-2], length, filled.shape[-1])
    room[..., :filled.shape[-2], :] = filled
    return room


def with_room(cache: Any) -> Any:
    """`cache` with its plain dynamic layers swapped for RoomLayers holding the same entries (other layer kinds,
    such as sliding-window ones, stay as they are); `cache` itself where transformers has no per-layer caches."""
    layers = getattr(cache, "layers", None)
    if _DYNAMIC_LAYER is None or layers is None:
        return cache
    swapped = []
    for layer in layers:
        if type(layer) is not _DYNAMIC_LAYER:
            swapped.append(layer)
            continue
        room = RoomLayer()
        if layer.is_initialized and layer.keys.numel():
            room.update(layer.keys, layer.values)
        swapped.append(room)
    cache.layers = swapped
    return cache
