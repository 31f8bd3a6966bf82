"""Read a SAM (or plain CloudFormation) template and translate it to CloudFormation, offline.

aws-sam-translator does the translation. It needs two things it would otherwise fetch from AWS:
a region (given here through a boto3 session with dummy credentials) and the map of managed
policy names, which is only consulted for policies named without an ARN (given empty; such a
template gets the translator's own error naming the policy).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import TemplateError

SERVERLESS_TRANSFORM = "AWS::Serverless-2016-10-31"
#: The placeholder bucket a local CodeUri is rewritten to before translation; the deployer
#: recognises it in the translated Code and uploads the packaged directory instead.
LOCAL_CODE_BUCKET = "harness-local-code"


@dataclass(frozen=True)
class StackTemplate:
    """A template translated to plain CloudFormation, with where its functions' code lives."""

    path: Path
    resources: dict[str, dict[str, Any]]
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)
    mappings: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    #: S3Key of the placeholder bucket -> local code directory (or .zip file)
    code_paths: dict[str, Path] = field(default_factory=dict)

    @property
    def base_dir(self) -> Path:
        """The folder relative code paths start from."""
        return self.path.parent


def load_template(
    path: Path | str,
    parameters: dict[str, str] | None = None,
    region: str = "us-east-1",
    cache_dir: Path | str | None = None,
) -> StackTemplate:
    """Parse ``path`` (YAML or JSON, short-form tags allowed) and translate SAM resources.

    With ``cache_dir``, a translation is kept under ``templates/`` keyed by the template text,
    the parameters, the region and the translator's version (translating takes ~0.3 s).
    """
    path = Path(path).resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise TemplateError(f"cannot read the template {path}: {err.strerror}") from err
    cached = _cache_file(cache_dir, path, text, parameters or {}, region)
    if cached is not None and cached.is_file():
        document, code_paths = _read_cached(cached)
    else:
        document = parse_template_text(text, str(path))
        code_paths = _rewrite_local_code(document, path.parent)
        if _uses_serverless_transform(document):
            document = translate(document, parameters or {}, region, str(path))
        if cached is not None:
            _write_cached(cached, document, code_paths)
    resources = document.get("Resources")
    if not isinstance(resources, dict) or not resources:
        raise TemplateError(f"{path}: the template has no Resources")
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            raise TemplateError(f"{path}: resource {logical_id!r} has no Type")
    return StackTemplate(
        path=path,
        resources=resources,
        parameters=dict(document.get("Parameters") or {}),
        conditions=dict(document.get("Conditions") or {}),
        mappings=dict(document.get("Mappings") or {}),
        outputs=dict(document.get("Outputs") or {}),
        code_paths=code_paths,
    )


def _cache_file(
    cache_dir: Path | str | None, path: Path, text: str, parameters: dict[str, str], region: str
) -> Path | None:
    if cache_dir is None:
        return None
    from samtranslator import __version__ as translator_version

    key = json.dumps([str(path), text, parameters, region, translator_version], sort_keys=True)
    return Path(cache_dir) / "templates" / f"{hashlib.sha256(key.encode()).hexdigest()}.json"


def _read_cached(cached: Path) -> tuple[dict[str, Any], dict[str, Path]]:
    data = json.loads(cached.read_text())
    return data["document"], {key: Path(value) for key, value in data["code_paths"].items()}


def _write_cached(cached: Path, document: dict[str, Any], code_paths: dict[str, Path]) -> None:
    cached.parent.mkdir(parents=True, exist_ok=True)
    payload = {"document": document, "code_paths": {k: str(v) for k, v in code_paths.items()}}
    handle, temporary = tempfile.mkstemp(suffix=".json", dir=cached.parent)
    with os.fdopen(handle, "w") as out:
        json.dump(payload, out)
    os.replace(temporary, cached)


def parse_template_text(text: str, origin: str = "<template>") -> dict[str, Any]:
    """YAML or JSON with CloudFormation's short-form tags (!Ref, !GetAtt, !Sub, ...)."""
    from samtranslator.yaml_helper import yaml_parse

    try:
        document = yaml_parse(text)
    except Exception as err:  # yaml raises several types; all mean "not a template"
        raise TemplateError(f"{origin}: not valid YAML or JSON: {err}") from err
    if not isinstance(document, dict):
        raise TemplateError(f"{origin}: a template is a mapping, got {type(document).__name__}")
    return document


def translate(
    document: dict[str, Any], parameters: dict[str, str], region: str, origin: str = "<template>"
) -> dict[str, Any]:
    """Expand AWS::Serverless::* resources into CloudFormation with aws-sam-translator."""
    import boto3
    from samtranslator.model.exceptions import InvalidDocumentException, InvalidTemplateException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    # the translator asks its feature-toggle store about features it has no entry for and logs
    # a warning each time; with no store configured that is noise, not news
    logging.getLogger("samtranslator.feature_toggle.feature_toggle").setLevel(logging.ERROR)
    logging.getLogger("samtranslator.metrics.metrics").setLevel(logging.ERROR)
    session = boto3.session.Session(
        region_name=region, aws_access_key_id="offline", aws_secret_access_key="offline"
    )
    translator = Translator(None, Parser(), boto_session=session)
    try:
        return translator.translate(
            document, parameter_values=dict(parameters), get_managed_policy_map=dict
        )
    except InvalidDocumentException as err:
        causes = "; ".join(cause.message for cause in err.causes)
        raise TemplateError(f"{origin}: SAM translation failed: {causes}") from err
    except InvalidTemplateException as err:
        raise TemplateError(f"{origin}: SAM translation failed: {err.message}") from err


def _uses_serverless_transform(document: dict[str, Any]) -> bool:
    transform = document.get("Transform")
    names = transform if isinstance(transform, list) else [transform]
    return SERVERLESS_TRANSFORM in names or any(
        str(resource.get("Type", "")).startswith("AWS::Serverless::")
        for resource in (document.get("Resources") or {}).values()
        if isinstance(resource, dict)
    )


def _rewrite_local_code(document: dict[str, Any], base_dir: Path) -> dict[str, Path]:
    """Point local CodeUri / Code paths at the placeholder bucket; return key -> local path.

    SAM accepts only S3 locations for CodeUri (``sam package`` uploads local ones first), and
    the deployer uploads code directly, so a local path is parked under a placeholder bucket.
    """
    code_paths: dict[str, Path] = {}

    def park(value: Any, where: str) -> Any:
        if not isinstance(value, str) or value.startswith("s3://"):
            return value
        local = (base_dir / value).resolve()
        if not local.exists():
            raise TemplateError(f"{where}: the code path {value!r} does not exist ({local})")
        key = value.strip("/") or "."
        code_paths[key] = local
        return {"Bucket": LOCAL_CODE_BUCKET, "Key": key}

    globals_function = (document.get("Globals") or {}).get("Function")
    if isinstance(globals_function, dict) and "CodeUri" in globals_function:
        globals_function["CodeUri"] = park(globals_function["CodeUri"], "Globals.Function.CodeUri")
    for logical_id, resource in (document.get("Resources") or {}).items():
        if not isinstance(resource, dict):
            continue
        props = resource.get("Properties")
        if not isinstance(props, dict):
            continue
        kind = resource.get("Type")
        if kind == "AWS::Serverless::Function" and "CodeUri" in props:
            props["CodeUri"] = park(props["CodeUri"], f"{logical_id}.CodeUri")
        elif kind == "AWS::Lambda::Function" and isinstance(props.get("Code"), str):
            parked = park(props["Code"], f"{logical_id}.Code")
            props["Code"] = {"S3Bucket": parked["Bucket"], "S3Key": parked["Key"]}
    return code_paths
