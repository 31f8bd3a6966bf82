"""The boto3 sessions and clients moto makes for itself: cut off from the machine's AWS setup.

moto reads service models and region lists through boto3 (``Session()`` in
``moto.core.base_backend`` and ``moto.core.utils``; up to moto 5.2.4 also
``boto3.client(service, region_name=...)`` in ``moto.core.responses`` to route a request, where
5.2.5 and later route with ``get_service_router`` over the shared model loader and make no
client). Left alone, those read ``AWS_PROFILE`` and
``~/.aws``: a profile missing from the files fails every request with ProfileNotFound (moto
issue 5469). And a client made with no credentials in the environment looks for some in the
EC2 instance metadata service at 169.254.169.254: a connection off the machine, which on a
cloud host could even find real credentials. Here they get sessions that read no profile and
no file, and clients with dummy credentials (their requests are never sent).

They also share one botocore data loader, and moto's model lookups one loader of moto's kind
(which adds moto's extras to botocore's models): each new loader lists every service model
directory botocore ships (thousands of ``stat`` calls, 20 to 40 ms) before it loads one, and
moto makes a session per backend and a loader per service model.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from ...config import offline_botocore_session
from .base import SeamMoved

#: what moto's clients sign with; they never send a request (only their models are read)
_DUMMY = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


_loader: Any = None
_loader_lock = threading.Lock()


def shared_loader() -> Any:
    """The process's one botocore data loader (it caches what it has listed and loaded)."""
    global _loader
    with _loader_lock:
        if _loader is None:
            import botocore.loaders

            _loader = botocore.loaders.create_loader()
        return _loader


def _one_loader(create: Any) -> Any:
    """``create`` made once: every later call returns the loader of the first."""
    made: list[Any] = []
    lock = threading.Lock()

    def create_loader() -> Any:
        with lock:
            if not made:
                made.append(create())
            return made[0]

    create_loader.harness_shared = True  # type: ignore[attr-defined]
    return create_loader


def isolated_session() -> Any:
    """A boto3 session that reads neither the environment's profile nor any AWS file."""
    import boto3

    session = offline_botocore_session()
    session.register_component("data_loader", shared_loader())
    return boto3.session.Session(botocore_session=session)


class IsolatedBoto3:
    """Stands in for the ``boto3`` module where moto builds clients: ``client()`` only."""

    def __init__(self) -> None:
        self._session: Any = None
        self._lock = threading.Lock()

    def client(self, service_name: str, region_name: str | None = None, **kwargs: Any) -> Any:
        """A client of an isolated session, with dummy credentials (none is looked up)."""
        with self._lock:
            if self._session is None:
                self._session = isolated_session()
        options = {**_DUMMY, **kwargs}
        return self._session.client(service_name, region_name=region_name, **options)


#: the module-level name moto 5.2.4 and earlier build their routing clients from
_CLIENT_MODULE = "boto3"


def _routes_with_clients(responses: Any) -> bool:
    """Whether this moto routes requests with boto3 clients (5.2.4 and earlier) or its own router."""
    return hasattr(responses, _CLIENT_MODULE)


def check_client_seams() -> None:
    """Fail loudly when moto no longer makes its sessions and clients where this module expects."""
    from moto.core import base_backend, responses, utils

    if not _routes_with_clients(responses) and not hasattr(responses, "get_service_router"):
        raise SeamMoved(
            "moto.core.responses has neither a module-level boto3 (moto <= 5.2.4) nor "
            "get_service_router (moto >= 5.2.5): check how moto routes a request to its action "
            "(harness/engine/moto_seam/clients.py)"
        )
    for module, name in (
        (base_backend, "Session"),
        (utils, "Session"),
        (utils, "create_loader"),
    ):
        if not hasattr(module, name):
            raise SeamMoved(
                f"{module.__name__} no longer has a module-level {name}: check how moto makes "
                "its boto3 sessions and clients (harness/engine/moto_seam/clients.py)"
            )


def install_isolated_clients() -> None:
    """Make moto's own sessions and clients isolated from the machine's AWS setup (idempotent)."""
    from moto.core import base_backend, responses, utils

    check_client_seams()
    if _routes_with_clients(responses) and not isinstance(
        getattr(responses, _CLIENT_MODULE), IsolatedBoto3
    ):
        setattr(responses, _CLIENT_MODULE, IsolatedBoto3())
    base_backend.Session = isolated_session  # type: ignore[misc,assignment]
    utils.Session = isolated_session  # type: ignore[misc,assignment]
    if not getattr(utils.create_loader, "harness_shared", False):
        utils.create_loader = _one_loader(utils.create_loader)  # type: ignore[assignment]
    import_profile_readers()


#: moto modules that make a ``boto3.Session()`` of their own when imported (EC2's region list,
#: imported by SSM and CloudFormation), which reads ``AWS_PROFILE``
_PROFILE_READERS = ("moto.ec2.models.availability_zones_and_regions",)
_PROFILE_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")


def import_profile_readers() -> None:
    """Import ``_PROFILE_READERS`` now, with the profile variables set aside, when they name a
    profile this machine does not have (else the module's import, at a service's first request,
    fails that request with ProfileNotFound). Nothing is done, and nothing imported, otherwise:
    EC2's import costs about a second. The variables are set aside only during the import, while
    the engine starts."""
    import contextlib
    import importlib
    import sys

    if all(name in sys.modules for name in _PROFILE_READERS):
        return
    if not any(os.environ.get(name) for name in _PROFILE_VARIABLES):
        return
    import botocore.exceptions
    import botocore.session

    try:
        botocore.session.Session().get_scoped_config()
        return  # the profile exists: the import reads it and works
    except botocore.exceptions.ProfileNotFound:
        pass
    saved = {name: os.environ.pop(name) for name in _PROFILE_VARIABLES if name in os.environ}
    try:
        for module in _PROFILE_READERS:
            with contextlib.suppress(ModuleNotFoundError):  # moved in a later moto: no reader
                importlib.import_module(module)
    finally:
        os.environ.update(saved)
