"""One measured figure of `run_all.py`, its target, and the table and JSON it ends up in."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Figure:
    """One row of the benchmark table.

    ``value`` is the number compared with the target (``None`` when it could not be measured);
    ``shown`` is how the table prints it; ``passed`` is None when there is no target.
    """

    key: str  # stable name in the JSON, e.g. "e2e.p99_ms"
    label: str
    value: float | None
    unit: str
    shown: str = ""
    target: str = ""
    passed: bool | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def row(self) -> tuple[str, str, str, str]:
        """The table's four columns: measurement, figure, target, verdict."""
        verdict = {None: "", True: "pass", False: "MISS"}[self.passed]
        shown = self.shown or (f"{self.value:g} {self.unit}" if self.value is not None else "n/a")
        return self.label, shown, self.target, verdict

    def to_json(self) -> dict[str, Any]:
        """The figure as a JSON object (every field)."""
        return asdict(self)


def below(
    key: str, label: str, value: float, unit: str, limit: float, *, shown: str = ""
) -> Figure:
    """A figure whose target is ``value < limit``."""
    return Figure(key, label, value, unit, shown, f"< {limit:g} {unit}", value < limit)


def at_most(
    key: str, label: str, value: float, unit: str, limit: float, *, shown: str = ""
) -> Figure:
    """A figure whose target is ``value <= limit``."""
    return Figure(key, label, value, unit, shown, f"<= {limit:g} {unit}", value <= limit)


def at_least(
    key: str, label: str, value: float, unit: str, limit: float, *, shown: str = ""
) -> Figure:
    """A figure whose target is ``value >= limit``."""
    return Figure(key, label, value, unit, shown, f">= {limit:g} {unit}", value >= limit)


def exactly(key: str, label: str, value: int, expected: int) -> Figure:
    """A count that must equal ``expected`` (lost or duplicated events: 0)."""
    return Figure(key, label, value, "", str(value), f"= {expected}", value == expected)


def informational(key: str, label: str, value: float | None, unit: str, shown: str = "") -> Figure:
    """A figure reported without a target."""
    return Figure(key, label, value, unit, shown)


def not_measured(key: str, label: str, reason: str, target: str = "") -> Figure:
    """A row that says why a measurement did not run (no pass or miss)."""
    return Figure(key, label, None, "", f"not measured: {reason}", target)


CELL_WIDTH = 60


def render_table(figures: list[Figure]) -> str:
    """The figures as an aligned plain-text table."""
    rows = [("measurement", "figure", "target", ""), *(f.row() for f in figures)]
    # a long note (a reason for not measuring) overflows its cell instead of widening the column
    widths = [min(max(len(row[column]) for row in rows), CELL_WIDTH) for column in range(3)]
    lines = []
    for index, row in enumerate(rows):
        lines.append(
            "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True))
            + "  "
            + row[3]
        )
        if index == 0:
            lines.append("-" * (sum(widths) + 12))
    return "\n".join(line.rstrip() for line in lines)
