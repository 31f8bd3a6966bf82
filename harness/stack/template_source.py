"""A template's text read as CloudFormation reads it: YAML or JSON, short-form tags, no dates.

PyYAML follows YAML 1.1, which turns an unquoted ``2012-10-17`` into a ``datetime.date``;
CloudFormation keeps every scalar that looks like a timestamp as the string it was written as
(an IAM policy's ``Version: 2012-10-17`` is the common case), so the loader here has no
timestamp resolver. CloudFormation refuses a mapping with the same key twice; so does this
loader, naming both lines. Every error names the file, the line and the column.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from yaml.constructor import ConstructorError
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

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        """A mapping, refusing a key that appears twice (CloudFormation does)."""
        if isinstance(node, MappingNode):
            seen: dict[Any, Node] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, ScalarNode):
                    continue
                key = key_node.value
                if key in seen and key != "<<":
                    first = seen[key].start_mark.line + 1
                    raise ConstructorError(
                        None,
                        None,
                        f"the key {key!r} appears twice in this mapping (first on line {first})",
                        key_node.start_mark,
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


def parse_template_text(text: str, origin: str = "<template>") -> dict[str, Any]:
    """YAML or JSON with CloudFormation's short-form tags; errors name ``origin`` and the line."""
    document = parse_snippet(text, origin)
    if not isinstance(document, dict):
        raise TemplateError(f"{origin}: a template is a mapping, got {type(document).__name__}")
    return document


def parse_snippet(text: str, origin: str) -> Any:
    """Any YAML or JSON document (an included file may hold a list or a scalar)."""
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            raise TemplateError(
                f"{origin}, line {err.lineno}, column {err.colno}: not valid JSON: {err.msg}"
            ) from err
    return _parse_yaml(text, origin)


def _parse_yaml(text: str, origin: str) -> Any:
    loader = TemplateLoader(text)
    loader.name = origin  # marks (and so messages) name the file, not "<unicode string>"
    try:
        return loader.get_single_data()
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
