"""Which resource and method (REST API) or route (HTTP API) answers a request path.

API Gateway picks the most specific match: a literal path part beats a ``{variable}``, which
beats a greedy ``{proxy+}``; a method defined on the resource beats ``ANY``. A request path with a
trailing slash matches the resource without it (``/items/`` is ``/items``), and extra slashes
before the first part are ignored. Routers are built once per deployment snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import unquote

from ..moto_seam import ApiMethodView, ApiResourceView, HttpRouteView, RestApiView

T = TypeVar("T")


@dataclass(frozen=True)
class RestMatch:
    """The resource and method that answer a REST API request, with the path variables."""

    resource: ApiResourceView
    method: ApiMethodView
    path_parameters: dict[str, str]


@dataclass(frozen=True)
class HttpMatch:
    """The HTTP API route that answers a request, with the path variables."""

    route: HttpRouteView
    path_parameters: dict[str, str]


@dataclass
class _Node(Generic[T]):
    """One level of the path tree; ``value`` is what a path ending here selects."""

    value: T | None = None
    literals: dict[str, _Node[T]] = field(default_factory=dict)
    variable: tuple[str, _Node[T]] | None = None
    greedy: tuple[str, T] | None = None


class _PathTree(Generic[T]):
    """Path templates (``/items/{id}``, ``/{proxy+}``) to values, matched by specificity."""

    def __init__(self) -> None:
        self.root: _Node[T] = _Node()

    def add(self, template: str, value: T) -> None:
        node = self.root
        parts = [p for p in template.strip("/").split("/") if p]
        for part in parts:
            if part.startswith("{") and part.endswith("+}"):
                node.greedy = (part[1:-2], value)
                return
            if part.startswith("{") and part.endswith("}"):
                if node.variable is None:
                    node.variable = (part[1:-1], _Node())
                node = node.variable[1]
            else:
                node = node.literals.setdefault(part, _Node())
        node.value = value

    def candidates(self, path: str) -> list[tuple[T, dict[str, str]]]:
        """Every template matching the path, most specific first, with raw variable values."""
        out: list[tuple[T, dict[str, str]]] = []
        self._walk(self.root, _relative(path), {}, out)
        return out

    def _walk(
        self, node: _Node[T], rest: str, params: dict[str, str], out: list[tuple[T, dict[str, str]]]
    ) -> None:
        if rest == "":
            if node.value is not None:
                out.append((node.value, params))
            return
        part, slash, tail = rest.partition("/")
        literal = node.literals.get(part)
        if literal is not None:
            self._walk(literal, tail if slash else "", params, out)
        if node.variable is not None and part:
            name, child = node.variable
            self._walk(child, tail if slash else "", {**params, name: part}, out)
        if node.greedy is not None:
            name, value = node.greedy
            out.append((value, {**params, name: rest}))


def _relative(path: str) -> str:
    """The path without its leading slashes and one trailing slash, as API Gateway matches it."""
    rest = path.lstrip("/")
    return rest[:-1] if rest.endswith("/") else rest


class RestRouter:
    """Matches requests against the resources of one REST API deployment."""

    def __init__(self, api: RestApiView):
        self.api = api
        self._tree: _PathTree[ApiResourceView] = _PathTree()
        for resource in api.resources:
            self._tree.add(resource.path, resource)

    def match(self, method: str, path: str) -> RestMatch | None:
        """The most specific resource with this method (or ANY); None is a 403 on AWS."""
        for resource, params in self._tree.candidates(path):
            chosen = resource.methods.get(method) or resource.methods.get("ANY")
            if chosen is not None:
                return RestMatch(resource, chosen, params)
        return None


def _route_parts(route_key: str) -> tuple[str, str] | None:
    """``GET /items`` -> ("GET", "/items"); OpenAPI's any-method key reads as ANY."""
    method, _, path = route_key.partition(" ")
    if not path.startswith("/"):
        return None
    method = method.upper()
    if method == "X-AMAZON-APIGATEWAY-ANY-METHOD":
        method = "ANY"
    return method, path


class HttpRouter:
    """Matches requests against the routes of an HTTP API; ``$default`` catches the rest."""

    def __init__(self, routes: tuple[HttpRouteView, ...]):
        self._tree: _PathTree[dict[str, HttpRouteView]] = _PathTree()
        self._by_path: dict[str, dict[str, HttpRouteView]] = {}
        self.default: HttpRouteView | None = None
        for route in routes:
            parts = _route_parts(route.route_key)
            if parts is None:
                # "$default", or the OpenAPI import's "X-AMAZON-APIGATEWAY-ANY-METHOD $default"
                if route.route_key.split(" ")[-1] == "$default":
                    self.default = route
                continue
            method, path = parts
            methods = self._by_path.get(path)
            if methods is None:
                methods = self._by_path[path] = {}
                self._tree.add(path, methods)
            methods[method] = route

    def match(self, method: str, path: str) -> HttpMatch | None:
        """The most specific route for the method (or ANY), else ``$default``; None is a 404."""
        for methods, params in self._tree.candidates(path):
            chosen = methods.get(method) or methods.get("ANY")
            if chosen is not None:
                # HTTP APIs hand the function decoded path variables
                return HttpMatch(chosen, {k: unquote(v) for k, v in params.items()})
        if self.default is not None:
            return HttpMatch(self.default, {})
        return None
