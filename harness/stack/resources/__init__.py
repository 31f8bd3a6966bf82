"""One handler per supported CloudFormation resource type; importing this package registers them."""

from __future__ import annotations

from . import (
    apigateway,
    apigatewayv2,
    dynamodb,
    events,
    iam,
    lambda_,
    lambda_versions,
    logs,
    s3,
    sns,
    sqs,
)
from .base import HANDLERS, Created, DeployContext, DeployOptions, ResourceHandler

__all__ = [
    "HANDLERS",
    "Created",
    "DeployContext",
    "DeployOptions",
    "ResourceHandler",
    "apigateway",
    "apigatewayv2",
    "dynamodb",
    "events",
    "iam",
    "lambda_",
    "lambda_versions",
    "logs",
    "s3",
    "sns",
    "sqs",
]


def supported_types() -> list[str]:
    """Every resource type the deployer can create, sorted."""
    return sorted(HANDLERS)
