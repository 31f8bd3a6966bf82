"""Recorded values -> scenario values: variables where the replay follows its own ids,
matchers where a value differs on every run, literal text everywhere else.

Besides the followed values, a position in the file knows the stack's outputs (``{api_url}``,
``{table_name}``, ``{topic_arn}``: a scenario's own variables), other values that differ between
deployments (the stack's name, resource names: loosened in expectations), and what the user
asked to redact (a header or JSON field by name, and wherever its value shows up again).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from .plan import Variable
from .volatile import (
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

#: what stands for a per-deployment name inside a pattern
DEPLOYMENT_PART_RE = r"[^\s\"']+?"
#: what the replay sends for a redacted value until the user sets it
REDACTED = "REDACTED"


@dataclass(frozen=True)
class Tagged:
    """A YAML scalar with a matcher tag (``!re``, ``!type``, ``!any``, ``!timestamp``)."""

    tag: str
    value: str = ""


@dataclass(frozen=True)
class TaggedCollection:
    """A list or mapping with a matcher tag (``!contains``)."""

    tag: str
    value: Any


@dataclass
class Redaction:
    """What the user asked to keep out of the file: header names and JSON keys (any case).

    A redacted value the replay sends becomes a variable (``{password}``) declared under
    ``vars:`` with a placeholder; one the replay checks becomes ``!any``; the value itself is
    never written, also where it shows up again under another name.
    """

    names: frozenset[str] = frozenset()
    #: variable name -> the secret it stands for (the file holds only the name)
    placeholders: dict[str, str] = field(default_factory=dict)
    #: the placeholders what the replay sends refers to (declared under ``vars:``)
    used: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, names: Iterable[str]) -> Redaction:
        """A redaction of these header names and JSON keys."""
        return cls(frozenset(n.strip().lower() for n in names if n.strip()))

    def applies(self, key: str) -> bool:
        """Whether the value under this header name or JSON key is redacted."""
        return key.lower() in self.names

    def placeholder(self, key: str, secret: str, taken: Collection[str] = ()) -> str:
        """The variable that stands for ``secret`` (sent under ``key``) in what the replay sends."""
        for name, value in self.placeholders.items():
            if value == secret:
                return name
        base = re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_") or "secret"
        base = f"v_{base}" if base[0].isdigit() else base
        name, n = base, 2
        while name in self.placeholders or name in taken:
            name, n = f"{base}_{n}", n + 1
        self.placeholders[name] = secret
        return name


#: what the file's header explains, once per kind of replacement met
Replacement = str


@dataclass
class Templater:
    """Turns recorded values into scenario values for one position in the file.

    ``defined`` are the variables a step at that position may reference; ``produced`` are the
    values the step itself saves (it can only check them loosely: its ``save`` runs after its
    ``expect``). ``seen`` collects which kinds of replacement were made, for the header.
    ``deployment`` are values that differ between deployments; ``redaction`` what to keep out.
    """

    defined: list[Variable]
    produced: Collection[str] = ()
    seen: set[Replacement] = field(default_factory=set)
    deployment: Collection[str] = ()
    redaction: Redaction = field(default_factory=Redaction)

    def request(self, value: Any, key: str = "") -> Any:
        """A value the replay sends: variables followed, everything else as recorded."""
        if isinstance(value, dict):
            return {self._text(str(k)): self.request(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.request(v, key) for v in value]
        if key and self.redaction.applies(key) and value is not None:
            secret = value if isinstance(value, str) else str(value)
            self.seen.add("redacted")
            name = self.redaction.placeholder(key, secret, self._names())
            self.redaction.used.add(name)
            return "{" + name + "}"
        if isinstance(value, str):
            return self._text(value)
        return value

    def expectation(self, value: Any, key: str = "") -> Any:
        """A value the replay checks: variables followed, volatile values as matchers."""
        if key and self.redaction.applies(key):
            self.seen.add("redacted")
            return Tagged("!any")
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

    def _names(self) -> set[str]:
        return {v.name for v in self.defined}

    def _parts(self, text: str) -> list[tuple[str, str]]:
        """``text`` split into ("var", name), ("secret", name), ("deploy", value) and ("text",
        literal) parts, longest values first."""
        parts: list[tuple[str, str]] = [("text", text)]
        pieces = [("var", v.value, v.name) for v in self.defined]
        pieces += [("secret", s, n) for n, s in self.redaction.placeholders.items() if len(s) >= 4]
        pieces += [("deploy", d, d) for d in self.deployment]
        for kind, value, name in sorted(pieces, key=lambda p: -len(p[1])):
            split: list[tuple[str, str]] = []
            for part, piece in parts:
                if part != "text" or value not in piece:
                    split.append((part, piece))
                    continue
                chunks = piece.split(value)
                for i, chunk in enumerate(chunks):
                    if i:
                        split.append((kind, name))
                    if chunk:
                        split.append(("text", chunk))
            parts = split
        return parts

    def _text(self, text: str) -> str:
        out = []
        for kind, piece in self._parts(text):
            if kind == "secret":
                self.seen.add("redacted")
                self.redaction.used.add(piece)
            if kind in ("var", "secret"):
                out.append("{" + piece + "}")
            else:
                out.append(literal_text(piece))
        return "".join(out)

    def _expected_text(self, text: str, key: str) -> Any:
        if text in self.produced:
            self.seen.add("produced")
            return Tagged("!re", UUID_RE) if is_uuid(text) else Tagged("!type", "str")
        parts = self._parts(text)
        kinds = {kind for kind, _ in parts}
        if "secret" in kinds:
            self.seen.add("redacted")
            if len(parts) == 1:
                return Tagged("!any")
        literals = [piece for kind, piece in parts if kind == "text"]
        whole = len(parts) == 1 and bool(literals)
        if whole and is_timestamp(text):
            self.seen.add("timestamp")
            return Tagged("!timestamp")
        if whole and is_uuid(text):
            self.seen.add("uuid")
            return Tagged("!re", UUID_RE)
        if whole and is_one_off_key(key):
            self.seen.add("one-off")
            return Tagged("!any")
        if "deploy" in kinds:
            self.seen.add("deployment")
            return Tagged("!re", _pattern(parts))
        if "secret" in kinds or any(has_volatile_part(piece) for piece in literals):
            self.seen.add("embedded")
            return Tagged("!re", _pattern(parts))
        if whole and is_token(text):
            self.seen.add("token")
            return Tagged("!type", "str")
        return self._text(text)


def _pattern(parts: Iterable[tuple[str, str]]) -> str:
    # inside !re a {name} stands for the variable's value, matched literally
    out = []
    for kind, piece in parts:
        if kind == "var":
            out.append("{" + piece + "}")
        elif kind == "secret":
            out.append(".+")
        elif kind == "deploy":
            out.append(DEPLOYMENT_PART_RE)
        else:
            out.append(loose_pattern(piece))
    return "".join(out)
