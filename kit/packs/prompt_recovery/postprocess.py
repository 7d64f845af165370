"""Pure post-processing of generated text into one clean candidate prompt, and the identity rule.

Each step is a small function so it can be tested on its own; `clean_candidate` chains them and returns
None when the result should fall back (too short, too few words, too long).
"""

from __future__ import annotations

import re
import unicodedata

IDENTITY_PROMPT = "Correct grammatical errors in this text."
MIN_CHARS = 15
MIN_WORDS = 3  # outputs of 2 words or fewer are rejected
MAX_WORDS = 50

_SPECIAL_STRINGS = ("</s>", "<s>", "<eos>", "<bos>", "<pad>", "<unk>", "<|endoftext|>", "<end_of_turn>",
                    "<start_of_turn>", "<|eot_id|>", "<|im_end|>", "<|im_start|>")
_INST_MARKERS = ("[/INST]", "<start_of_turn>model", "<|assistant|>", "assistant<|end_header_id|>",
                 "<|im_start|>assistant")
_QUOTES = "\"'`\u201c\u201d\u2018\u2019\u00ab\u00bb"
_LIST_PREFIX = re.compile(r"^\s*(?:(?:\d{1,3}|[a-zA-Z])[.)]\s+|[-*\u2022+>]+\s*|#+\s*)")
_TAG = re.compile(r"</?[A-Za-z][^<>]{0,40}>|\[/?[A-Za-z_]{1,20}\]")
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
_UNWANTED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}
_ABBREVIATIONS = {"e.g", "i.e", "etc", "mr", "ms", "mrs", "dr", "st", "vs"}


def is_identity(original: str, rewritten: str) -> bool:
    """True when the rewrite left the text unchanged (ignoring surrounding whitespace)."""
    return original.strip() == rewritten.strip()


def join_prime(prime: str, generated: str) -> str:
    """Prime words + the decoded continuation, with one space where the decoder dropped it."""
    if not prime:
        return generated
    if not generated:
        return prime
    if prime[-1].isspace() or generated[0].isspace() or generated[0] in ",.;:!?'\"":
        return prime + generated
    return prime + " " + generated


def after_marker(text: str, marker: str) -> str:
    """The text after the last chat answer marker and the last `marker` (e.g. 'The request was:')."""
    for inst in _INST_MARKERS:
        if inst in text:
            text = text.rsplit(inst, 1)[1]
    key = marker.strip()
    if key and key.lower() in text.lower():
        idx = text.lower().rfind(key.lower())
        text = text[idx + len(key):]
    return text


def strip_markup(text: str) -> str:
    """Remove special-token strings, HTML/bracket tags, markdown emphasis and headings."""
    for special in _SPECIAL_STRINGS:
        text = text.replace(special, " ")
    text = _TAG.sub(" ", text)
    text = re.sub(r"[*_~]{1,3}(?=\S)|(?<=\S)[*_~]{1,3}", "", text)
    return text


def strip_controls(text: str, keep_newlines: bool = False) -> str:
    """`text` without control, format, surrogate, private-use or unassigned characters, nor U+FFFD (a byte
    sequence the tokenizer could not decode); tabs and other whitespace controls become spaces, and line
    breaks survive only with `keep_newlines`."""
    out = []
    for ch in text:
        if ch in "\n\r" and keep_newlines:
            out.append("\n" if ch == "\n" else "")
        elif ch.isspace():
            out.append(" ")
        elif ch != "\ufffd" and unicodedata.category(ch) not in _UNWANTED_CATEGORIES:
            out.append(ch)
    return "".join(out)


def first_line(text: str) -> str:
    """The first non-empty line, without a leading list number or bullet."""
    for line in text.replace("\r", "\n").split("\n"):
        line = _LIST_PREFIX.sub("", line, count=1).strip()
        if line:
            return line
    return ""


def strip_quotes(text: str) -> str:
    """Drop double quotes/backticks anywhere and quotes wrapping the whole text (keeps apostrophes in words)."""
    text = text.strip()
    while len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    text = re.sub(r"[\"`\u201c\u201d\u00ab\u00bb]", "", text)
    return re.sub(r"(?:(?<=\s)|^)['\u2018\u2019]|['\u2018\u2019](?=\s|$|[.,!?])", "", text).strip()


def first_sentence(text: str) -> str:
    """The first sentence, ending with one period (or its own ! or ?)."""
    for match in _SENTENCE_END.finditer(text):
        before = text[: match.start()].split()
        word = before[-1].lower() if before else ""
        # "Dr." or "e.g." or an initial ("J.") do not end a sentence.
        if match.group() == "." and (word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())):
            continue
        text = text[: match.end()]
        break
    text = re.sub(r"\s+", " ", text).strip().rstrip(",;:- ")
    if text and text[-1] not in ".!?":
        text += "."
    return text


def acceptable(text: str) -> bool:
    """The fallback rule: at least 15 characters, more than 2 words, at most 50 words."""
    words = text.split()
    return len(text) >= MIN_CHARS and MIN_WORDS <= len(words) <= MAX_WORDS


def clean_candidate(generated: str, prime: str = "", marker: str = "The request was:") -> str | None:
    """Prime + generated text -> one clean sentence, or None when it must fall back."""
    text = join_prime(prime, generated)
    text = after_marker(text, marker)
    text = strip_markup(text)
    text = first_line(text)  # line breaks matter here; every other control character goes next
    text = strip_controls(text)
    text = strip_quotes(text)
    text = first_sentence(text)
    return text if acceptable(text) else None
