"""The rewriter's prompt format, defined once: how a rewrite prompt and an original text are put to a model.

The competition's host asked Gemma to rewrite each original text with a rewrite prompt in one user turn, the
prompt first and the text after it. `kit make-data` (making rows) and re-scoring (the likelihood of an observed
rewrite under a candidate prompt) must put the pair to the model in exactly the same way, so both import
`rewriter_messages` / `render_rewriter_prompt` from here, and make-data records `REWRITER_FORMAT` in its sidecar.

One user turn, no system turn: every chat template has a user role (Gemma's and Mistral's have no system
role), and a template that inserts its own default system prompt (SmolLM2's ChatML) keeps doing so.
"""

from __future__ import annotations

from typing import Any

REWRITER_FORMAT_VERSION = "1"
SEPARATOR = "\n\n"
REWRITER_FORMAT = {
    "version": REWRITER_FORMAT_VERSION,
    "turns": "one user turn: rewrite_prompt + SEPARATOR + original_text; then the chat template's assistant header",
    "separator": SEPARATOR,
}


def rewriter_messages(prompt: str, original: str) -> list[dict[str, str]]:
    """The chat history that asks the rewriter to apply `prompt` to `original`."""
    return [{"role": "user", "content": prompt.strip() + SEPARATOR + original.strip()}]


def render_rewriter_prompt(tokenizer: Any, prompt: str, original: str) -> str:
    """The rewriter's chat text for one pair, ending with the assistant header (tokenize it with
    add_special_tokens=False: the chat template already wrote any BOS)."""
    return tokenizer.apply_chat_template(rewriter_messages(prompt, original), tokenize=False,
                                         add_generation_prompt=True)
