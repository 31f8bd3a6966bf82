"""CloudFormation intrinsic functions: Ref, Fn::GetAtt, Fn::Sub, Fn::Join and the rest.

Resolution happens just before a resource is created, when every resource it names exists.
``AWS::NoValue`` removes the property (or list element) that holds it, as CloudFormation does.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

from .errors import TemplateError


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_CONDITION_FUNCTIONS = ("Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not", "Condition")
_UNSUPPORTED = (
    "Fn::Transform",
    "Fn::Cidr",
    "Fn::GetStackOutput",
    # AWS::LanguageExtensions
    "Fn::Length",
    "Fn::ToJsonString",
)

#: What a resource attribute lookup gives: (logical id, attribute or None for Ref) -> value
AttributeLookup = Callable[[str, str | None], Any]
#: What ``Fn::ImportValue`` gives: (export name, where in the template) -> the exported value
ExportLookup = Callable[[str, str], Any]


class IntrinsicResolver:
    """Resolves intrinsic functions against parameters, pseudo parameters and created resources."""

    def __init__(
        self,
        *,
        parameters: dict[str, Any],
        pseudo: dict[str, Any],
        lookup: AttributeLookup,
        conditions: dict[str, Any] | None = None,
        mappings: dict[str, Any] | None = None,
        exports: ExportLookup | None = None,
    ):
        self.parameters = parameters
        self.pseudo = {**pseudo, "AWS::NoValue": NO_VALUE}
        self.lookup = lookup
        self.exports = exports
        self.condition_definitions = conditions or {}
        self.mappings = mappings or {}
        self._condition_values: dict[str, bool] = {}
        self._evaluating: set[str] = set()

    # -- public --------------------------------------------------------------------------------

    def resolve(self, value: Any, where: str) -> Any:
        """``value`` with every intrinsic function replaced by its result."""
        if isinstance(value, dict):
            if len(value) == 1:
                ((name, argument),) = value.items()
                if name == "Ref" or name.startswith("Fn::"):
                    return self._call(name, argument, where)
            out = {}
            for key, item in value.items():
                resolved = self.resolve(item, f"{where}.{key}")
                if resolved is not NO_VALUE:
                    out[key] = resolved
            return out
        if isinstance(value, list):
            items = [self.resolve(item, f"{where}[{i}]") for i, item in enumerate(value)]
            return [item for item in items if item is not NO_VALUE]
        return value

    def condition(self, name: str, where: str = "Conditions") -> bool:
        """The value of a named condition of the template's Conditions section."""
        if name in self._condition_values:
            return self._condition_values[name]
        if name not in self.condition_definitions:
            raise TemplateError(f"{where}: condition {name!r} is not defined in Conditions")
        if name in self._evaluating:
            raise TemplateError(f"{where}: condition {name!r} refers to itself")
        self._evaluating.add(name)
        try:
            value = self._truth(self.condition_definitions[name], f"Conditions.{name}")
        finally:
            self._evaluating.discard(name)
        self._condition_values[name] = value
        return value

    # -- functions -----------------------------------------------------------------------------

    def _call(self, name: str, argument: Any, where: str) -> Any:
        handler = {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::Join": self._join,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::If": self._if,
            "Fn::FindInMap": self._find_in_map,
            "Fn::Base64": self._base64,
            "Fn::GetAZs": self._get_azs,
            "Fn::ImportValue": self._import_value,
        }.get(name)
        if handler is not None:
            return handler(argument, where)
        if name in _CONDITION_FUNCTIONS:
            return self._truth({name: argument}, where)
        if name in _UNSUPPORTED:
            raise TemplateError(f"{where}: {name} is not supported by the harness deployer")
        raise TemplateError(f"{where}: unknown intrinsic function {name}")

    def _import_value(self, argument: Any, where: str) -> Any:
        """Another stack's export, as the target's CloudFormation lists it (ListExports)."""
        name = self.resolve(argument, f"{where}.Fn::ImportValue")
        if not isinstance(name, str) or not name:
            raise TemplateError(f"{where}: Fn::ImportValue takes an export name, got {name!r}")
        if self.exports is None:
            raise TemplateError(f"{where}: Fn::ImportValue {name!r}: no exports to read here")
        return self.exports(name, where)

    def _ref(self, argument: Any, where: str) -> Any:
        if not isinstance(argument, str):
            raise TemplateError(f"{where}: Ref takes a name, got {argument!r}")
        if argument in self.pseudo:
            return self.pseudo[argument]
        if argument in self.parameters:
            return self.parameters[argument]
        return self.lookup(argument, None)

    def _get_att(self, argument: Any, where: str) -> Any:
        if isinstance(argument, str):
            logical_id, _, attribute = argument.partition(".")
        elif isinstance(argument, list) and len(argument) == 2:
            logical_id = argument[0]
            attribute = self.resolve(argument[1], where)
        else:
            raise TemplateError(
                f"{where}: Fn::GetAtt takes [resource, attribute], got {argument!r}"
            )
        if not logical_id or not attribute:
            raise TemplateError(
                f"{where}: Fn::GetAtt takes [resource, attribute], got {argument!r}"
            )
        return self.lookup(str(logical_id), str(attribute))

    def _sub(self, argument: Any, where: str) -> str:
        if isinstance(argument, str):
            text, variables = argument, {}
        elif isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str):
            text = argument[0]
            variables = self.resolve(argument[1], f"{where}[1]")
            if not isinstance(variables, dict):
                raise TemplateError(f"{where}: Fn::Sub variables must be a mapping")
        else:
            raise TemplateError(f"{where}: Fn::Sub takes a string or [string, variables]")

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"  # ${!Literal} writes ${Literal}
            if name in variables:
                return _text(variables[name], where)
            if name in self.pseudo or name in self.parameters:
                return _text(self._ref(name, where), where)
            if "." in name:
                logical_id, _, attribute = name.partition(".")
                return _text(self.lookup(logical_id, attribute), where)
            return _text(self.lookup(name, None), where)

        return _SUB_VARIABLE.sub(replace, text)

    def _join(self, argument: Any, where: str) -> str:
        if not (isinstance(argument, list) and len(argument) == 2):
            raise TemplateError(f"{where}: Fn::Join takes [delimiter, [values]]")
        delimiter = self.resolve(argument[0], where)
        values = self.resolve(argument[1], where)
        if not isinstance(values, list):
            raise TemplateError(f"{where}: Fn::Join needs a list of values, got {values!r}")
        return str(delimiter).join(_text(value, where) for value in values)

    def _select(self, argument: Any, where: str) -> Any:
        if not (isinstance(argument, list) and len(argument) == 2):
            raise TemplateError(f"{where}: Fn::Select takes [index, [values]]")
        index = self.resolve(argument[0], where)
        values = self.resolve(argument[1], where)
        try:
            return values[int(index)]
        except (ValueError, TypeError, IndexError) as err:
            raise TemplateError(
                f"{where}: Fn::Select index {index!r} is not in {values!r}"
            ) from err

    def _split(self, argument: Any, where: str) -> list[str]:
        if not (isinstance(argument, list) and len(argument) == 2):
            raise TemplateError(f"{where}: Fn::Split takes [delimiter, string]")
        delimiter = self.resolve(argument[0], where)
        text = self.resolve(argument[1], where)
        return _text(text, where).split(str(delimiter))

    def _if(self, argument: Any, where: str) -> Any:
        if not (isinstance(argument, list) and len(argument) == 3 and isinstance(argument[0], str)):
            raise TemplateError(f"{where}: Fn::If takes [condition, value if true, value if false]")
        chosen = argument[1] if self.condition(argument[0], where) else argument[2]
        return self.resolve(chosen, where)

    def _find_in_map(self, argument: Any, where: str) -> Any:
        if not (isinstance(argument, list) and len(argument) == 3):
            raise TemplateError(f"{where}: Fn::FindInMap takes [map, top key, second key]")
        name, top, second = (self.resolve(part, where) for part in argument)
        try:
            return self.mappings[name][top][second]
        except (KeyError, TypeError) as err:
            raise TemplateError(f"{where}: Mappings has no {name}.{top}.{second}") from err

    def _base64(self, argument: Any, where: str) -> str:
        return base64.b64encode(_text(self.resolve(argument, where), where).encode()).decode()

    def _get_azs(self, argument: Any, where: str) -> list[str]:
        region = self.resolve(argument, where) or self.pseudo.get("AWS::Region", "us-east-1")
        return [f"{region}{zone}" for zone in "abc"]

    # -- conditions ----------------------------------------------------------------------------

    def _truth(self, value: Any, where: str) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not (isinstance(value, dict) and len(value) == 1):
            raise TemplateError(f"{where}: not a condition: {value!r}")
        ((name, argument),) = value.items()
        if name == "Condition":
            return self.condition(str(argument), where)
        if name == "Fn::Equals":
            if not (isinstance(argument, list) and len(argument) == 2):
                raise TemplateError(f"{where}: Fn::Equals takes two values")
            left, right = (self.resolve(part, where) for part in argument)
            return _text(left, where) == _text(right, where)
        if name == "Fn::Not":
            if not (isinstance(argument, list) and len(argument) == 1):
                raise TemplateError(f"{where}: Fn::Not takes one condition")
            return not self._truth(argument[0], where)
        if name in ("Fn::And", "Fn::Or"):
            if not isinstance(argument, list) or not 2 <= len(argument) <= 10:
                raise TemplateError(f"{where}: {name} takes 2 to 10 conditions")
            results = [self._truth(part, where) for part in argument]
            return all(results) if name == "Fn::And" else any(results)
        raise TemplateError(f"{where}: {name} is not a condition function")


def referenced_resources(value: Any, resource_ids: set[str]) -> set[str]:
    """The logical ids of resources that ``value`` names through Ref, Fn::GetAtt or Fn::Sub."""
    return referenced_names(value) & resource_ids


def referenced_names(value: Any) -> set[str]:
    """Every name ``value`` refers to (resources, parameters, pseudo parameters)."""
    found: set[str] = set()

    def walk(item: Any) -> None:
        if isinstance(item, list):
            for sub in item:
                walk(sub)
            return
        if not isinstance(item, dict):
            return
        if len(item) == 1:
            ((name, argument),) = item.items()
            if name == "Ref" and isinstance(argument, str):
                found.add(argument)
                return
            if name == "Fn::GetAtt":
                if isinstance(argument, str):
                    found.add(argument.partition(".")[0])
                elif isinstance(argument, list) and argument and isinstance(argument[0], str):
                    found.add(argument[0])
                return
            if name == "Fn::Sub":
                found.update(_sub_references(argument))
                if isinstance(argument, list) and len(argument) == 2:
                    walk(argument[1])
                return
        for sub in item.values():
            walk(sub)

    walk(value)
    return found


def _sub_references(argument: Any) -> set[str]:
    if isinstance(argument, str):
        text, local_names = argument, set()
    elif isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str):
        text = argument[0]
        local_names = set(argument[1]) if isinstance(argument[1], dict) else set()
    else:
        return set()
    names = set()
    for match in _SUB_VARIABLE.finditer(text):
        variable = match.group(1)
        if not variable.startswith("!") and variable not in local_names:
            names.add(variable.partition(".")[0])
    return names


def _text(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise TemplateError(f"{where}: expected a string value, got {value!r}")


def unsupported_functions(value: Any, condition: Callable[[str], bool]) -> set[str]:
    """The intrinsic functions in ``value`` the resolver cannot evaluate.

    Only the branch of an ``Fn::If`` that ``condition`` takes counts: a function behind a
    condition that is false locally is never evaluated, as on CloudFormation.
    """
    found: set[str] = set()

    def walk(item: Any) -> None:
        if isinstance(item, list):
            for sub in item:
                walk(sub)
            return
        if not isinstance(item, dict):
            return
        if len(item) == 1:
            ((name, argument),) = item.items()
            if name in _UNSUPPORTED:
                found.add(name)
                return
            if (
                name == "Fn::If"
                and isinstance(argument, list)
                and len(argument) == 3
                and isinstance(argument[0], str)
            ):
                walk(argument[1] if condition(argument[0]) else argument[2])
                return
        for sub in item.values():
            walk(sub)

    walk(value)
    return found
