"""One handler per supported CloudFormation resource type; importing this package registers them."""

from __future__ import annotations

from . import apigateway, dynamodb, iam, lambda_, lambda_versions, logs, sns, sqs
from .base import HANDLERS, Created, DeployContext, DeployOptions, ResourceHandler

__all__ = [
    "HANDLERS",
    "Created",
    "DeployContext",
    "DeployOptions",
    "ResourceHandler",
    "apigateway",
    "dynamodb",
    "iam",
    "lambda_",
    "lambda_versions",
    "logs",
    "sns",
    "sqs",
]


def supported_types() -> list[str]:
    """Every resource type the deployer can create, sorted."""
    return sorted(HANDLERS)
