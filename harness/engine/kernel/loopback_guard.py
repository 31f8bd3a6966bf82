"""Loopback only: refuse every connection, name lookup and bind that would reach past this machine.

Opt-in (the ``loopback_only`` setting, ``HARNESS_LOOPBACK_ONLY=1``). An audit hook (PEP 578)
sees each socket operation before it happens and raises ``LoopbackViolation`` for a destination
that is not 127.0.0.0/8, ::1 or ``localhost``. The engine passes the guard on to every Lambda
worker it starts while the guard is on, so a function that would call real AWS (or anything
else) fails with the reason instead of leaving the machine.

Standard library only: a worker's bootstrap runs this file with no site-packages.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import sys
import threading
from typing import Any

#: the worker environment variable naming this file; the bootstrap installs the guard from it
WORKER_VARIABLE = "_HARNESS_LOOPBACK_GUARD"
GUARD_FILE = __file__

_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_INET = (socket.AF_INET, socket.AF_INET6)


class LoopbackViolation(PermissionError):
    """A socket operation toward a destination outside this machine was refused."""


class _State:
    def __init__(self) -> None:
        self.installed = False
        self.active = False
        self.report = True
        self.refused: list[str] = []
        self.lock = threading.Lock()


_state = _State()


def is_loopback_host(host: object, *, wildcard_ok: bool = True) -> bool:
    """Whether ``host`` (an address or a name) stays on this machine.

    ``wildcard_ok``: the unspecified address (``0.0.0.0``, ``""``) counts as local, as it does
    for a connect; a bind to it listens on every interface, so binds pass False.
    """
    if host is None:
        return True  # getaddrinfo(None, port): the local addresses
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip("[]").rstrip(".").lower().split("%", 1)[0]
    if name == "":
        return wildcard_ok
    if name in _LOCAL_NAMES or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False  # a name only a resolver outside this machine can answer
    if address.is_unspecified:
        return wildcard_ok
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _destination(event: str, args: tuple[Any, ...]) -> tuple[str, bool] | None:
    """The host an audited socket event goes to and whether a wildcard is local; None: no host."""
    if event in ("socket.connect", "socket.sendto", "socket.bind"):
        sock, address = args[0], args[1]
        if getattr(sock, "family", None) not in _INET or not isinstance(address, tuple):
            return None  # Unix sockets, netlink...: never leave the machine
        return address[0], event != "socket.bind"
    if event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"):
        return args[0], True
    if event == "socket.gethostbyaddr":
        return args[0], True
    if event == "socket.getnameinfo":
        sockaddr = args[0]
        return (sockaddr[0] if isinstance(sockaddr, tuple) else sockaddr), True
    return None


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _state.active or not event.startswith("socket."):
        return
    found = _destination(event, args)
    if found is None:
        return
    host, wildcard_ok = found
    if is_loopback_host(host, wildcard_ok=wildcard_ok):
        return
    detail = f"{event} {host!r}"
    if event in ("socket.connect", "socket.sendto", "socket.bind") and len(args[1]) > 1:
        detail += f" port {args[1][1]}"
    with _state.lock:
        _state.refused.append(detail)
    message = f"harness loopback only: refused {detail}: only 127.0.0.1, ::1 and localhost"
    if _state.report:
        print(message, file=sys.stderr, flush=True)
    # an errno and strerror, so code that reports OSErrors by them says what happened
    raise LoopbackViolation(errno.EACCES, message)


def install(*, report: bool = True) -> None:
    """Turn the guard on in this process (the hook is added once; audit hooks stay for good).

    ``report``: also print each refusal on stderr (a worker's stderr is its function's log).
    """
    with _state.lock:
        _state.report = report
        if not _state.installed:
            sys.addaudithook(_hook)
            _state.installed = True
        _state.active = True


def uninstall() -> None:
    """Turn the guard off (the hook stays, doing nothing)."""
    _state.active = False


def active() -> bool:
    """Whether the guard is on in this process."""
    return _state.active


def refused() -> list[str]:
    """What the guard refused in this process so far, oldest first."""
    with _state.lock:
        return list(_state.refused)


def clear() -> None:
    """Forget what was refused."""
    with _state.lock:
        _state.refused.clear()
