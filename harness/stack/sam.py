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

from ..config import offline_session
from .errors import TemplateError
from .includes import inline_local_files
from .template_source import parse_template_text, read_template

SERVERLESS_TRANSFORM = "AWS::Serverless-2016-10-31"
#: The placeholder bucket a local CodeUri is rewritten to before translation; the deployer
#: recognises it in the translated Code and uploads the packaged directory instead.
LOCAL_CODE_BUCKET = "harness-local-code"
#: The same for a layer's local ContentUri / Content
LOCAL_LAYER_BUCKET = "harness-local-layer"
#: SAM resource types kept out of translation: the deployer refuses them by name (translating
#: them first would fail on things such as a local DefinitionUri, with a less useful message)
UNTRANSLATED_TYPES = frozenset(
    {
        "AWS::Serverless::StateMachine",
        "AWS::Serverless::Application",
        "AWS::Serverless::GraphQLApi",
    }
)
_TRANSFORM_ADVICE = {
    "AWS::LanguageExtensions": (
        "its functions (Fn::ForEach, Fn::Length, Fn::ToJsonString) are not expanded by the "
        "harness: write the resources they would generate out in the template"
    ),
    "AWS::Include": "use Fn::Transform with AWS::Include inside a property instead",
}


@dataclass(frozen=True)
class LayerSource:
    """A layer's local content, and how `sam build` would build it."""

    path: Path
    #: Metadata.BuildMethod (e.g. python3.12); None: the folder is the layer as it is
    build_method: str | None = None
    architecture: str = "x86_64"

    def to_json(self) -> dict[str, Any]:
        """For the translation cache."""
        return {
            "path": str(self.path),
            "build_method": self.build_method,
            "architecture": self.architecture,
        }


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
    #: S3Key of the layer placeholder bucket -> the layer's local content
    layer_sources: dict[str, LayerSource] = field(default_factory=dict)
    #: logical id of a resource SAM generated -> what made it (for messages)
    origins: dict[str, str] = field(default_factory=dict)
    #: what reading the template noticed and the user should hear (a key given twice)
    notices: list[str] = field(default_factory=list)

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
    text = read_template(path)
    notes: list[str] = []
    document = parse_template_text(text, str(path), notes)
    _check_transforms(document, path)
    inline_local_files(document, path.parent, str(path))
    cached = _cache_file(cache_dir, path, document, parameters or {}, region)
    if cached is not None and cached.is_file():
        document, sources = _read_cached(cached)
    else:
        sources = _LocalSources({}, {}, {})
        sources.code_paths.update(_rewrite_local_code(document, path.parent))
        sources.layers.update(_rewrite_local_layers(document, path.parent))
        if _uses_serverless_transform(document):
            original = dict(document.get("Resources") or {})
            untranslated = _set_aside(document)
            document = translate(document, parameters or {}, region, str(path))
            document.setdefault("Resources", {}).update(untranslated)
            sources.origins.update(_origins(original, document.get("Resources") or {}))
        if cached is not None:
            _write_cached(cached, document, sources)
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
        code_paths=sources.code_paths,
        layer_sources=sources.layers,
        origins=sources.origins,
        notices=notes,
    )


@dataclass(frozen=True)
class _LocalSources:
    code_paths: dict[str, Path]
    layers: dict[str, LayerSource]
    origins: dict[str, str]


def _check_transforms(document: dict[str, Any], path: Path) -> None:
    """Refuse transforms (macros) the harness cannot run, before anything else."""
    transform = document.get("Transform")
    names = transform if isinstance(transform, list) else [transform] if transform else []
    for name in names:
        label = name.get("Name") if isinstance(name, dict) else name
        if label == SERVERLESS_TRANSFORM:
            continue
        advice = _TRANSFORM_ADVICE.get(str(label)) or (
            "a macro runs in your AWS account, which the harness cannot do: deploy the template "
            "it produces instead (aws cloudformation get-template --template-stage Processed)"
        )
        raise TemplateError(f"{path}: Transform {label} is not supported: {advice}")


def _set_aside(document: dict[str, Any]) -> dict[str, Any]:
    """Take out the SAM resources the deployer refuses anyway (see UNTRANSLATED_TYPES)."""
    resources = document.get("Resources") or {}
    aside = {
        logical_id: resource
        for logical_id, resource in resources.items()
        if isinstance(resource, dict) and resource.get("Type") in UNTRANSLATED_TYPES
    }
    for logical_id in aside:
        del resources[logical_id]
    return aside


def _origins(original: dict[str, Any], translated: dict[str, Any]) -> dict[str, str]:
    """For each resource SAM generated, which SAM resource (and event) it came from."""
    sam_resources = {
        logical_id: resource
        for logical_id, resource in original.items()
        if isinstance(resource, dict)
        and str(resource.get("Type", "")).startswith("AWS::Serverless::")
    }
    origins: dict[str, str] = {}
    for logical_id in translated:
        if logical_id in original:
            sam_type = (sam_resources.get(logical_id) or {}).get("Type")
            if sam_type and sam_type != (translated[logical_id] or {}).get("Type"):
                origins[logical_id] = f"from {sam_type}"
            continue
        owner = max(
            (name for name in sam_resources if logical_id.startswith(name)), key=len, default=None
        )
        if owner is None:
            origins[logical_id] = "made by SAM"
            continue
        events = (sam_resources[owner].get("Properties") or {}).get("Events") or {}
        rest = logical_id[len(owner) :]
        event = max((name for name in events if rest.startswith(name)), key=len, default=None)
        if event is not None and isinstance(events[event], dict):
            kind = events[event].get("Type", "?")
            origins[logical_id] = f"made by SAM from {owner}'s event {event} (Type: {kind})"
        else:
            origins[logical_id] = f"made by SAM from {owner}"
    return origins


def _cache_file(
    cache_dir: Path | str | None,
    path: Path,
    document: dict[str, Any],
    parameters: dict[str, str],
    region: str,
) -> Path | None:
    if cache_dir is None:
        return None
    from samtranslator import __version__ as translator_version

    # the document after includes, so an edited included file is a new translation
    key = json.dumps(
        [str(path), document, parameters, region, translator_version], sort_keys=True, default=str
    )
    return Path(cache_dir) / "templates" / f"{hashlib.sha256(key.encode()).hexdigest()}.json"


def _read_cached(cached: Path) -> tuple[dict[str, Any], _LocalSources]:
    data = json.loads(cached.read_text())
    layers = {
        key: LayerSource(Path(value["path"]), value["build_method"], value["architecture"])
        for key, value in data.get("layers", {}).items()
    }
    code_paths = {key: Path(value) for key, value in data["code_paths"].items()}
    return data["document"], _LocalSources(code_paths, layers, data.get("origins", {}))


def _write_cached(cached: Path, document: dict[str, Any], sources: _LocalSources) -> None:
    cached.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "document": document,
        "code_paths": {k: str(v) for k, v in sources.code_paths.items()},
        "layers": {k: v.to_json() for k, v in sources.layers.items()},
        "origins": sources.origins,
    }
    handle, temporary = tempfile.mkstemp(suffix=".json", dir=cached.parent)
    with os.fdopen(handle, "w") as out:
        json.dump(payload, out)
    os.replace(temporary, cached)


def translate(
    document: dict[str, Any], parameters: dict[str, str], region: str, origin: str = "<template>"
) -> dict[str, Any]:
    """Expand AWS::Serverless::* resources into CloudFormation with aws-sam-translator."""
    from samtranslator.model.exceptions import InvalidDocumentException, InvalidTemplateException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    # the translator asks its feature-toggle store about features it has no entry for and logs
    # a warning each time; with no store configured that is noise, not news
    logging.getLogger("samtranslator.feature_toggle.feature_toggle").setLevel(logging.ERROR)
    logging.getLogger("samtranslator.metrics.metrics").setLevel(logging.ERROR)
    session = offline_session(
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
        elif kind == "AWS::Serverless::Function" and props.get("PackageType") == "Image":
            # built by `sam build` from Metadata; the deployer refuses image functions by name
            props.setdefault("ImageUri", "harness-unbuilt-image")
        elif kind == "AWS::Serverless::Function" and _needs_default_code(props, globals_function):
            # `sam build` takes the template's folder when a function names no code
            props["CodeUri"] = park(".", f"{logical_id}.CodeUri")
        elif kind == "AWS::Lambda::Function" and isinstance(props.get("Code"), str):
            parked = park(props["Code"], f"{logical_id}.Code")
            props["Code"] = {"S3Bucket": parked["Bucket"], "S3Key": parked["Key"]}
    return code_paths


def _needs_default_code(props: dict[str, Any], globals_function: Any) -> bool:
    named = ("CodeUri", "InlineCode", "ImageUri")
    if any(key in props for key in named) or props.get("PackageType") == "Image":
        return False
    inherited = globals_function if isinstance(globals_function, dict) else {}
    return not any(key in inherited for key in named)


def _rewrite_local_layers(document: dict[str, Any], base_dir: Path) -> dict[str, LayerSource]:
    """Point local layer ContentUri / Content at the layer placeholder bucket.

    ``Metadata.BuildMethod`` says how `sam build` builds the layer (``python3.12``: the folder
    and its requirements go into ``python/``); without it the folder is the layer as it is.
    """
    layers: dict[str, LayerSource] = {}
    for logical_id, resource in (document.get("Resources") or {}).items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Properties"), dict):
            continue
        kind = resource.get("Type")
        props = resource["Properties"]
        field_name = {
            "AWS::Serverless::LayerVersion": "ContentUri",
            "AWS::Lambda::LayerVersion": "Content",
        }.get(str(kind))
        if field_name is None:
            continue
        value = props.get(field_name)
        if not isinstance(value, str) or value.startswith("s3://"):
            continue
        local = (base_dir / value).resolve()
        if not local.exists():
            raise TemplateError(
                f"{logical_id}.{field_name}: the layer path {value!r} does not exist ({local})"
            )
        metadata = resource.get("Metadata") or {}
        build = metadata.get("BuildMethod")
        architectures = props.get("CompatibleArchitectures") or ["x86_64"]
        architecture = str(metadata.get("BuildArchitecture") or architectures[0])
        key = f"{logical_id}/{value.strip('/') or '.'}"
        layers[key] = LayerSource(local, str(build) if build else None, architecture)
        if kind == "AWS::Serverless::LayerVersion":
            props[field_name] = {"Bucket": LOCAL_LAYER_BUCKET, "Key": key}
        else:
            props[field_name] = {"S3Bucket": LOCAL_LAYER_BUCKET, "S3Key": key}
    return layers


def placeholder_key(resource: dict[str, Any], bucket: str) -> str | None:
    """The S3Key of a (translated) Code / Content property parked under a placeholder bucket."""
    props = resource.get("Properties") or {}
    code = props.get("Code") or props.get("Content") or {}
    if not isinstance(code, dict) or code.get("S3Bucket") != bucket:
        return None
    return str(code.get("S3Key"))
