"""A template's text read as CloudFormation reads it: YAML or JSON, short-form tags, no dates.

PyYAML follows YAML 1.1, which turns an unquoted ``2012-10-17`` into a ``datetime.date``;
CloudFormation keeps every scalar that looks like a timestamp as the string it was written as
(an IAM policy's ``Version: 2012-10-17`` is the common case), so the loader here has no
timestamp resolver. A key given twice in one mapping is taken last-wins, as CloudFormation
does, and reported (it is usually a copy-paste slip). Every error names the file, the line and
the column.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import TemplateError

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
#: short-form tags whose long form has no ``Fn::`` prefix
_UNPREFIXED = frozenset({"Ref", "Condition"})


class TemplateLoader(yaml.SafeLoader):
    """SafeLoader without timestamps, with CloudFormation's short-form tags (!Ref, !Sub...)."""

    yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag != _TIMESTAMP]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str):
        super().__init__(stream)
        #: "line N: key 'K' appears twice ..." for each key given twice (the last one is used)
        self.duplicates: list[str] = []

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        """A mapping; a key that appears twice is noted (the last one wins, as on AWS)."""
        if isinstance(node, MappingNode):
            seen: dict[Any, Node] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, ScalarNode):
                    continue
                key = key_node.value
                if key in seen and key != "<<":
                    self.duplicates.append(
                        f"line {key_node.start_mark.line + 1}: the key {key!r} appears twice in "
                        f"one mapping (first on line {seen[key].start_mark.line + 1}); the last "
                        "one is used, as CloudFormation does"
                    )
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)  # type: ignore[arg-type]


def _short_form(loader: TemplateLoader, tag_suffix: str, node: Node) -> dict[str, Any]:
    """``!GetAtt A.B`` -> ``{"Fn::GetAtt": ["A", "B"]}``, ``!Ref X`` -> ``{"Ref": "X"}``."""
    name = tag_suffix if tag_suffix in _UNPREFIXED else f"Fn::{tag_suffix}"
    value: Any
    if isinstance(node, ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


TemplateLoader.add_multi_constructor("!", _short_form)


def read_template(path: Path | str) -> str:
    """The template's text; a missing or unreadable file is a TemplateError naming it."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise TemplateError(
            f"no template {path} (give one with --template, or run from the project's folder)"
        ) from err
    except (OSError, UnicodeDecodeError) as err:
        raise TemplateError(f"cannot read the template {path}: {err}") from err


def parse_template_text(
    text: str, origin: str = "<template>", notes: list[str] | None = None
) -> dict[str, Any]:
    """YAML or JSON with CloudFormation's short-form tags; errors name ``origin`` and the line.

    ``notes`` receives what is read but worth a word (a key given twice).
    """
    document = parse_snippet(text, origin, notes)
    if not isinstance(document, dict):
        raise TemplateError(f"{origin}: a template is a mapping, got {type(document).__name__}")
    return document


def parse_snippet(text: str, origin: str, notes: list[str] | None = None) -> Any:
    """Any YAML or JSON document (an included file may hold a list or a scalar)."""
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            raise TemplateError(
                f"{origin}, line {err.lineno}, column {err.colno}: not valid JSON: {err.msg}"
            ) from err
    return _parse_yaml(text, origin, notes)


def _parse_yaml(text: str, origin: str, notes: list[str] | None) -> Any:
    loader = TemplateLoader(text)
    loader.name = origin  # marks (and so messages) name the file, not "<unicode string>"
    try:
        document = loader.get_single_data()
        if notes is not None:
            notes += [f"{origin}, {duplicate}" for duplicate in loader.duplicates]
        return document
    except yaml.MarkedYAMLError as err:
        raise TemplateError(_describe(err, origin)) from err
    except yaml.YAMLError as err:
        raise TemplateError(f"{origin}: not valid YAML: {err}") from err
    finally:
        loader.dispose()


def _describe(err: yaml.MarkedYAMLError, origin: str) -> str:
    mark = err.problem_mark or err.context_mark
    where = f"{origin}, line {mark.line + 1}, column {mark.column + 1}" if mark else origin
    problem = err.problem or "not valid YAML"
    context = f" ({err.context}, line {err.context_mark.line + 1})" if err.context_mark else ""
    if err.context and not err.context_mark:
        context = f" ({err.context})"
    return f"{where}: not valid YAML: {problem}{context}"
