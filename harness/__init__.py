"""Offline emulation and end-to-end testing harness for event-driven serverless apps on AWS."""

__version__ = "0.1.0"
