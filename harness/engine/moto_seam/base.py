"""What every area of the seam shares: the moto pin, the error, the default account, moto's
server application and reset, and the one record of the moto methods the patches replace."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import moto

SUPPORTED_MOTO = "5.2"
#: the moto releases a CI run has passed on; pyproject.toml admits exactly this range
TESTED_MOTO = ("5.2.5", "5.2.6")
DEFAULT_ACCOUNT = "123456789012"


class SeamMoved(RuntimeError):
    """A moto internal this module relies on is gone or changed shape."""


#: the installed moto's version (reported by /_harness/health)
MOTO_VERSION: str = moto.__version__


def check_moto_version() -> None:
    """Fail loudly when the installed moto is not the minor version the seam was written for."""
    if not moto.__version__.startswith(SUPPORTED_MOTO + "."):
        raise SeamMoved(
            f"moto {moto.__version__} is installed; harness/engine/moto_seam/ was written for "
            f"moto {SUPPORTED_MOTO}.x (tested: {', '.join(TESTED_MOTO)}): check every seam "
            "listed there, then move the pin"
        )


# moto's own methods, kept by each install before its patch replaces them
_original: dict[str, Any] = {}


# ---------------------------------------------------------------------------------------------
# moto server application and reset


def reset_moto() -> None:
    """Forget every resource in every moto backend."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


def account_region(headers: Any, default_region: str = "us-east-1") -> tuple[str, str]:
    """The account (moto's default) and region a signed request is for."""
    auth = headers.get("Authorization", "") if headers is not None else ""
    region = default_region
    if "Credential=" in auth:
        try:
            scope = auth.split("Credential=")[1].split(",")[0].split("/")
            region = scope[2]
        except IndexError:
            region = default_region
    return DEFAULT_ACCOUNT, region


def _iter_backends(backends: Any) -> Iterator[tuple[str, str, Any]]:
    for account_id in list(backends.keys()):
        regions = backends[account_id]
        for region in list(regions.keys()):
            yield account_id, region, regions[region]
