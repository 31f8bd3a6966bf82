"""moto's request dispatch without the work it repeats on every request.

Two lookups in moto's server path give the same answer every time, yet cost about a tenth of
the CPU of a small request (measured by profiling the engine under load, benchmarks/):

- ``moto.backends.list_of_moto_modules()`` lists moto's package directory and stats every entry
  (about 110 ``stat`` calls), twice per request, under the dispatcher's global lock;
- ``moto.core.utils.method_names_from_class(cls)`` runs ``inspect.getmembers`` over a response
  class to find its action methods, once per request.

Both answers are fixed for a given moto install and class, so they are computed once here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from .base import SeamMoved

_installed = False


def check_dispatch_seams() -> None:
    """Fail loudly when the two functions this module caches have moved."""
    from moto import backends
    from moto.core import responses, utils

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


def create_moto_app() -> Callable[..., Any]:
    """moto's own WSGI dispatcher, in-process (without its per-request repeated lookups)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    install_dispatch_cache()
    return DomainDispatcherApplication(create_backend_app)
