"""Errors of the stack layer: reading a template, packaging functions, deploying resources."""

from __future__ import annotations


class StackError(Exception):
    """Root of the stack layer's errors."""


class TemplateError(StackError):
    """The template cannot be read, translated or resolved; the message names the place."""


class ParameterError(TemplateError):
    """A template parameter is missing, unknown or has a value its constraints reject."""


class UnsupportedResource(TemplateError):
    """The template declares a resource type the deployer cannot create."""


class PackagingError(StackError):
    """A function's code directory could not be packaged (missing path, pip failure, size)."""


class DeployFailed(StackError):
    """A resource could not be created; what was created before it has been removed."""

    def __init__(self, message: str, *, logical_id: str, rollback_errors: list[str]):
        super().__init__(message)
        self.logical_id = logical_id
        self.rollback_errors = rollback_errors


class DestroyIncomplete(StackError):
    """Some resources could not be removed; the state file still lists them."""
