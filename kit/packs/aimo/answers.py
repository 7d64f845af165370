r"""The integer answer of a completion: the content of its last `\boxed{...}`, read strictly (stdlib only).

Only the last box counts (models restate and correct themselves; the final box is the answer they commit to),
and when it cannot be read as one integer in range the completion has no answer: nothing falls back to an
earlier box or to the last number in the text, because a guess that looks like an answer would count as a vote.

| last box holds                                      | answer | rule                                          |
|-----------------------------------------------------|--------|-----------------------------------------------|
| `42`, ` 42 `, `+42`, `042`                          | 42     | an optional `+` and digits                    |
| `42.0`, `42.`, `42.000`                             | 42     | a zero fractional part is still an integer    |
| `1,234`, `1{,}234`, `1\,234`, `1\ 234`, `12 345`    | 1234.. | thousands groups of exactly three digits      |
| `\text{42}`, `\mathbf{42}`, `\textbf{42}`, `{42}`   | 42     | wrappers around the whole content are peeled  |
| `$42$`, `\(42\)`, `\displaystyle 42`                | 42     | math delimiters and style commands dropped    |
| `n = 42`, `x=42`, `a_1 = 42`                        | 42     | one name (with an optional subscript) `=`     |
| `42^\circ`, `42^{\circ}`, `42°`, `42\%`             | 42     | a trailing degree or percent sign             |
| `3.5`, `1/2`, `\frac{1}{2}`, `2\sqrt{3}`, `1, 2`    | None   | not one integer                               |
| `-5`, `100000`                                      | None   | outside 0..99999                              |
| no box, `\boxed{}`, unbalanced braces               | None   | nothing to read                               |

`\boxed` may be followed by spaces before its brace; `\fbox{...}` is read the same way.
"""

from __future__ import annotations

import re

ANSWER_MIN, ANSWER_MAX = 0, 99999
_BOX = re.compile(r"\\(?:boxed|fbox)\s*\{")
_WRAPPER = re.compile(r"^\\(?:text|textbf|textrm|mathrm|mathbf|mbox|operatorname)\s*\{(.*)\}$", re.S)
_DELIMITERS = (("$$", "$$"), ("$", "$"), (r"\(", r"\)"), (r"\[", r"\]"))
_STYLE = re.compile(r"^\\(?:displaystyle|textstyle|scriptstyle)\s*")
_NAME = re.compile(r"^[A-Za-z](?:_\{?\w+\}?)?\s*=\s*")
_UNIT = re.compile(r"\s*(?:\^\s*\{?\s*\\circ\s*\}?|°|\\%|%)$")
_SPACE_MACROS = re.compile(r"\\[,;:! ]|~")
_NUMBER = re.compile(r"^\+?(?P<int>\d{1,3}(?:[, ]\d{3})+|\d+)(?:\.0*)?$")


def last_box(text: str) -> str | None:
    r"""The content of the last `\boxed{...}` (braces balanced), or None when there is none or it is not closed."""
    starts = [m.end() for m in _BOX.finditer(text)]
    if not starts:
        return None
    depth, start = 1, starts[-1]
    for i in range(start, len(text)):
        if text[i] == "{" and text[i - 1] != "\\":
            depth += 1
        elif text[i] == "}" and text[i - 1] != "\\":
            depth -= 1
            if depth == 0:
                return text[start:i]
    return None


def _peel(content: str) -> str:
    """Strip delimiters, wrappers, a `name =` prefix and a trailing unit until nothing more comes off."""
    while True:
        before = content
        content = content.strip()
        for left, right in _DELIMITERS:
            if len(content) > len(left) + len(right) and content.startswith(left) and content.endswith(right):
                content = content[len(left):-len(right)].strip()
        if (match := _WRAPPER.match(content)) is not None:
            content = match.group(1)
        elif content.startswith("{") and content.endswith("}") and last_box("\\boxed" + content) == content[1:-1]:
            content = content[1:-1]  # one brace group around everything, not `{1}{2}`
        content = _UNIT.sub("", _NAME.sub("", _STYLE.sub("", content)))
        if content == before:
            return content


def parse_answer(content: str) -> int | None:
    """The integer that box content `content` states, per the module's table, or None."""
    text = _peel(content).replace("{,}", ",")
    text = re.sub(r"\s+", " ", _SPACE_MACROS.sub(" ", text)).strip()
    match = _NUMBER.match(text)
    if match is None:
        return None
    value = int(re.sub(r"[, ]", "", match.group("int")))
    return value if ANSWER_MIN <= value <= ANSWER_MAX else None


def extract_answer(completion: str) -> int | None:
    r"""The answer a completion commits to: its last `\boxed{...}` read by `parse_answer`, else None."""
    content = last_box(completion)
    return None if content is None else parse_answer(content)
