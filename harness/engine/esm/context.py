"""What an event source mapping uses of the rest of the engine, and of its own mapping.

The composition root builds one ``MappingContext`` and hands it to the mapping service, which
hands it to each poller: a poller reads its stream through ``streams``, runs its function
through ``invoker``, asks ``redeliveries`` after a successful batch, and signals ``activity``
when its pending work changes. It never reaches any other service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..kernel.activity import ActivitySignal
from ..kernel.invoking import Invoker
from ..kernel.protocols import RedeliveryFaults, StreamReader

if TYPE_CHECKING:
    from .config import MappingConfig


@dataclass(frozen=True)
class MappingContext:
    """The collaborators every mapping's poller uses."""

    activity: ActivitySignal
    streams: StreamReader
    invoker: Invoker
    redeliveries: RedeliveryFaults
    region: str


class MappingHandle(Protocol):
    """What a poller needs of the mapping it delivers for."""

    @property
    def uuid(self) -> str: ...

    @property
    def config(self) -> MappingConfig: ...

    def note_result(self, ok: bool) -> None:
        """Record how the last batch ended (LastProcessingResult)."""
        ...
