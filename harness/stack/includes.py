"""Local files a template pulls in, read before translation as `sam package` would upload them.

- ``Fn::Transform`` with ``Name: AWS::Include`` and a local ``Location``: the file's content
  (YAML or JSON, short-form tags allowed) takes the place of the ``Fn::Transform`` mapping, as
  CloudFormation inserts the snippet it reads from S3.
- ``DefinitionUri`` of ``AWS::Serverless::Api`` / ``HttpApi`` and ``BodyS3Location`` of
  ``AWS::ApiGateway::RestApi`` / ``AWS::ApiGatewayV2::Api`` naming a local file: the file becomes
  the ``DefinitionBody`` / ``Body``.

Locations in S3 cannot be read offline; they are refused with what to do instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import TemplateError
from .template_source import parse_snippet

INCLUDE_TRANSFORM = "AWS::Include"
#: resource type -> (property naming a local file, property the file's content goes to)
_LOCAL_DEFINITIONS = {
    "AWS::Serverless::Api": ("DefinitionUri", "DefinitionBody"),
    "AWS::Serverless::HttpApi": ("DefinitionUri", "DefinitionBody"),
    "AWS::ApiGateway::RestApi": ("BodyS3Location", "Body"),
    "AWS::ApiGatewayV2::Api": ("BodyS3Location", "Body"),
}
_MAX_DEPTH = 10


def inline_local_files(document: dict[str, Any], base_dir: Path, origin: str) -> list[Path]:
    """Replace includes and local definition files in ``document``; returns the files read."""
    read: list[Path] = []
    for logical_id, resource in (document.get("Resources") or {}).items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Properties"), dict):
            continue
        local = _LOCAL_DEFINITIONS.get(str(resource.get("Type")))
        props = resource["Properties"]
        if local is None or not isinstance(props.get(local[0]), str):
            continue
        uri_property, body_property = local
        location = props[uri_property]
        where = f"{origin}: resource {logical_id} ({resource['Type']}) {uri_property}"
        if location.startswith("s3://"):
            raise TemplateError(
                f"{where} is {location}, which cannot be read offline: keep the file beside the "
                f"template and give its relative path, or inline it as {body_property}"
            )
        path = _local_file(base_dir, location, where)
        props[body_property] = _expand(_read(path), base_dir, origin, read, 0)
        del props[uri_property]
        read.append(path)
    expanded = _expand(document, base_dir, origin, read, 0)
    document.clear()
    document.update(expanded)
    return read


def _expand(value: Any, base_dir: Path, origin: str, read: list[Path], depth: int) -> Any:
    if isinstance(value, list):
        return [_expand(item, base_dir, origin, read, depth) for item in value]
    if not isinstance(value, dict):
        return value
    if "Fn::Transform" not in value:
        return {key: _expand(item, base_dir, origin, read, depth) for key, item in value.items()}
    if depth >= _MAX_DEPTH:
        raise TemplateError(f"{origin}: AWS::Include files include each other more than 10 deep")
    path = _include_path(value["Fn::Transform"], base_dir, origin)
    read.append(path)
    snippet = _expand(_read(path), path.parent, str(path), read, depth + 1)
    rest = {k: _expand(v, base_dir, origin, read, depth) for k, v in value.items()}
    del rest["Fn::Transform"]
    if not rest:
        return snippet
    if not isinstance(snippet, dict):
        raise TemplateError(
            f"{path}: included beside other keys, so it must be a mapping, "
            f"got {type(snippet).__name__}"
        )
    return {**rest, **snippet}


def _include_path(transform: Any, base_dir: Path, origin: str) -> Path:
    if not isinstance(transform, dict):
        raise TemplateError(f"{origin}: Fn::Transform takes a mapping with Name and Parameters")
    name = transform.get("Name")
    if name != INCLUDE_TRANSFORM:
        raise TemplateError(
            f"{origin}: Fn::Transform {name!r} runs a macro in your AWS account, which the harness "
            f"cannot do; only {INCLUDE_TRANSFORM} of a local file is read"
        )
    location = (transform.get("Parameters") or {}).get("Location")
    where = f"{origin}: {INCLUDE_TRANSFORM}"
    if not isinstance(location, str):
        raise TemplateError(
            f"{where} needs Parameters.Location as a plain path (got {location!r}): the harness "
            "reads the file before resolving intrinsics"
        )
    if location.startswith("s3://"):
        raise TemplateError(
            f"{where} of {location} cannot be read offline: keep the file beside the template "
            "and give its relative path as Location (sam package uploads it for AWS)"
        )
    return _local_file(base_dir, location, where)


def _local_file(base_dir: Path, location: str, where: str) -> Path:
    path = (base_dir / location).resolve()
    if not path.is_file():
        raise TemplateError(f"{where}: no file {location!r} ({path})")
    return path


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise TemplateError(f"cannot read {path}: {err}") from err
    return parse_snippet(text, str(path))
