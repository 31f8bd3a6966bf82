"""moto's request dispatch without the work it repeats on every request.

Two lookups in moto's server path give the same answer every time, yet cost about a tenth of
the CPU of a small request (measured by profiling the engine under load, benchmarks/):

- ``moto.backends.list_of_moto_modules()`` lists moto's package directory and stats every entry
  (about 110 ``stat`` calls), twice per request, under the dispatcher's global lock;
- ``moto.core.utils.method_names_from_class(cls)`` runs ``inspect.getmembers`` over a response
  class to find its action methods, once per request.

Both answers are fixed for a given moto install and class, so they are computed once here.

And a shorter way in for the services whose every action is a POST to ``/`` (``ROOT_SERVICES``:
SNS, SQS's JSON protocol, STS, IAM, CloudWatch Logs, EventBridge, SSM, Secrets Manager, KMS):
moto's server finds the service by matching the request against every backend's URL patterns
under one global lock, then runs a Flask app per service to reach the same method,
``<Service>Response.dispatch``. ``MotoApp`` calls that method directly, with the request moto's
Flask app would build, and answers with the response it would give (its CORS headers included):
about a third less of the engine's CPU for a ``Publish``. Anything else goes through moto's
server.
``tests/engine/test_moto_root_dispatch.py`` sends the same requests both ways and compares the
answers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request

from .base import SeamMoved
from .locks import service_of

#: the services ``MotoApp`` serves directly (their SigV4 signing name is moto's module name)
ROOT_SERVICES = frozenset(
    {"sns", "sqs", "sts", "iam", "logs", "events", "ssm", "secretsmanager", "kms"}
)

_installed = False


def check_dispatch_seams() -> None:
    """Fail loudly when what this module caches or calls in moto has moved."""
    from moto import backends
    from moto.core import responses, utils
    from moto.moto_api import recorder
    from moto.moto_server import werkzeug_app

    for owner, label, attribute in (
        (werkzeug_app, "moto.moto_server.werkzeug_app", "BackendRequest"),
        (werkzeug_app, "moto.moto_server.werkzeug_app", "DomainDispatcherApplication"),
        (recorder, "moto.moto_api.recorder", "_record_request"),
    ):
        if getattr(owner, attribute, None) is None:
            raise SeamMoved(
                f"{label}.{attribute} is gone: check moto's server "
                "(harness/engine/moto_seam/dispatch.py)"
            )
    for module, name in (
        (backends, "list_of_moto_modules"),
        (utils, "method_names_from_class"),
        (responses, "method_names_from_class"),
    ):
        if not callable(getattr(module, name, None)):
            raise SeamMoved(
                f"{module.__name__}.{name} is gone: check moto's request dispatch "
                "(harness/engine/moto_seam/dispatch.py)"
            )


def _cached_modules(original: Callable[[], Iterable[str]]) -> Callable[[], tuple[str, ...]]:
    modules = tuple(original())

    def list_of_moto_modules() -> tuple[str, ...]:
        return modules

    return list_of_moto_modules


def _cached_method_names(original: Callable[[Any], list[str]]) -> Callable[[Any], list[str]]:
    @functools.cache
    def names(clazz: Any) -> tuple[str, ...]:
        return tuple(original(clazz))

    def method_names_from_class(clazz: Any) -> list[str]:
        return list(names(clazz))

    return method_names_from_class


def install_dispatch_cache() -> None:
    """Replace moto's two repeated lookups with cached ones (idempotent)."""
    global _installed
    if _installed:
        return
    from moto import backends
    from moto.core import responses, utils

    check_dispatch_seams()
    backends.list_of_moto_modules = _cached_modules(backends.list_of_moto_modules)  # type: ignore[assignment]
    cached = _cached_method_names(utils.method_names_from_class)
    utils.method_names_from_class = cached  # type: ignore[assignment]
    responses.method_names_from_class = cached  # type: ignore[assignment]
    _installed = True


class MotoApp:
    """moto's WSGI server in-process, with the direct way to ``ROOT_SERVICES``."""

    def __init__(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        install_dispatch_cache()
        self.server = DomainDispatcherApplication(create_backend_app)
        #: False sends every request through moto's server (the differential test)
        self.direct = True
        #: requests that took the direct way since the engine started
        self.served_direct = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        handler = self._root_handler(environ) if self.direct else None
        if handler is None:
            return self.server(environ, start_response)  # type: ignore[no-any-return]
        self.served_direct += 1
        return _answer(handler, environ)(environ, start_response)  # type: ignore[no-any-return]

    @staticmethod
    def _root_handler(environ: dict[str, Any]) -> Callable[..., Any] | None:
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") != "/":
            return None
        auth = environ.get("HTTP_AUTHORIZATION", "")
        service = service_of({"Authorization": auth}) if auth else None
        return root_dispatch(service) if service in ROOT_SERVICES else None


def create_moto_app() -> MotoApp:
    """moto's own WSGI dispatcher, in-process (without its per-request repeated lookups)."""
    return MotoApp()


@functools.cache
def root_dispatch(service: str) -> Callable[..., Any] | None:
    """The method moto's Flask app of ``service`` runs for a request to ``/`` (None if none:
    its requests then go through moto's server), read from the service's URL table
    (``moto.<service>.urls``). Looked up at the service's first request, as moto's server
    imports a service: some (SSM imports EC2) build boto3 sessions when imported, which must
    be the engine's isolated ones."""
    import importlib

    paths = importlib.import_module(f"moto.{service}.urls").url_paths
    handler = paths.get("{0}/$", paths.get("{0}/"))
    return handler if getattr(handler, "__name__", "") == "dispatch" else None


def _answer(handler: Callable[..., Any], environ: dict[str, Any]) -> Any:
    """What moto's Flask app answers: its request class, ``convert_to_flask_response``'s call
    and answer, and the CORS headers its flask-cors extension adds."""
    from botocore.exceptions import ClientError
    from flask import Response
    from moto.moto_api import recorder
    from moto.moto_server.werkzeug_app import BackendRequest

    request = BackendRequest(environ)
    recorder._record_request(request)
    try:
        result = handler(request, request.raw_url, dict(request.headers))
    except ClientError as exc:
        result = 400, {}, exc.response["Error"]["Message"]
    status, headers, content = result if len(result) == 3 else (200, {}, result)
    response = Response(response=content, status=status, headers=headers)
    for name, value in cors_headers(request):
        response.headers[name] = value
    return response


def cors_headers(request: Request) -> list[tuple[str, str]]:
    """What moto's Flask app (flask-cors, any origin allowed) adds to every answer."""
    origin = request.headers.get("Origin")
    if origin is None:
        return [("Access-Control-Allow-Origin", "*")]
    return [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
