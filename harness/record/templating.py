"""Recorded values -> scenario values: variables where the replay follows its own ids,
matchers where a value differs on every run, literal text everywhere else."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from .plan import Variable
from .volatile import (
    TIMESTAMP_RE,
    UUID_RE,
    has_volatile_part,
    is_epoch,
    is_one_off_key,
    is_timestamp,
    is_token,
    is_uuid,
    literal_text,
    loose_pattern,
)


@dataclass(frozen=True)
class Tagged:
    """A YAML scalar with a matcher tag (``!re``, ``!type``, ``!any``)."""

    tag: str
    value: str = ""


#: what the file's header explains, once per kind of replacement met
Replacement = str


@dataclass
class Templater:
    """Turns recorded values into scenario values for one position in the file.

    ``defined`` are the variables a step at that position may reference; ``produced`` are the
    values the step itself saves (it can only check them loosely: its ``save`` runs after its
    ``expect``). ``seen`` collects which kinds of replacement were made, for the header.
    """

    defined: list[Variable]
    produced: Collection[str] = ()
    seen: set[Replacement] = field(default_factory=set)

    def request(self, value: Any) -> Any:
        """A value the replay sends: variables followed, everything else as recorded."""
        if isinstance(value, dict):
            return {self._text(str(k)): self.request(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.request(v) for v in value]
        if isinstance(value, str):
            return self._text(value)
        return value

    def expectation(self, value: Any, key: str = "") -> Any:
        """A value the replay checks: variables followed, volatile values as matchers."""
        if isinstance(value, dict):
            return {self._text(str(k)): self.expectation(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.expectation(v, key) for v in value]
        if isinstance(value, str):
            return self._expected_text(value, key)
        if is_epoch(key, value):
            self.seen.add("epoch")
            return Tagged("!type", "int" if isinstance(value, int) else "number")
        return value

    # -- strings -------------------------------------------------------------------------------

    def _parts(self, text: str) -> list[tuple[str, str]]:
        """``text`` split into ("var", name) and ("text", literal) parts, longest values first."""
        parts: list[tuple[str, str]] = [("text", text)]
        for variable in sorted(self.defined, key=lambda v: -len(v.value)):
            split: list[tuple[str, str]] = []
            for kind, piece in parts:
                if kind != "text" or variable.value not in piece:
                    split.append((kind, piece))
                    continue
                chunks = piece.split(variable.value)
                for i, chunk in enumerate(chunks):
                    if i:
                        split.append(("var", variable.name))
                    if chunk:
                        split.append(("text", chunk))
            parts = split
        return parts

    def _text(self, text: str) -> str:
        return "".join(
            "{" + piece + "}" if kind == "var" else literal_text(piece)
            for kind, piece in self._parts(text)
        )

    def _expected_text(self, text: str, key: str) -> Any:
        if text in self.produced:
            self.seen.add("produced")
            return Tagged("!re", UUID_RE) if is_uuid(text) else Tagged("!type", "str")
        parts = self._parts(text)
        literals = [piece for kind, piece in parts if kind == "text"]
        whole = len(parts) == 1 and bool(literals)
        if whole and is_timestamp(text):
            self.seen.add("timestamp")
            return Tagged("!re", TIMESTAMP_RE)
        if whole and is_uuid(text):
            self.seen.add("uuid")
            return Tagged("!re", UUID_RE)
        if whole and is_one_off_key(key):
            self.seen.add("one-off")
            return Tagged("!any")
        if any(has_volatile_part(piece) for piece in literals):
            self.seen.add("embedded")
            return Tagged("!re", _pattern(parts))
        if whole and is_token(text):
            self.seen.add("token")
            return Tagged("!type", "str")
        return self._text(text)


def _pattern(parts: Iterable[tuple[str, str]]) -> str:
    # inside !re a {name} stands for the variable's value, matched literally
    return "".join(
        "{" + piece + "}" if kind == "var" else loose_pattern(piece) for kind, piece in parts
    )
