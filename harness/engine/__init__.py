"""The embedded engine: an AWS-compatible endpoint on 127.0.0.1 with no Docker and no account."""

from .core import Engine, IdleReport

__all__ = ["Engine", "IdleReport"]
