"""The embedded engine: an AWS-compatible endpoint on 127.0.0.1 with no Docker and no account."""

from .core import Engine, EngineStartFailed, IdleReport

__all__ = ["Engine", "EngineStartFailed", "IdleReport"]
