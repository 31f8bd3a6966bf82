"""Schedule expressions as EventBridge reads them: ``rate(5 minutes)``, ``cron(0 12 * * ? *)``
and (Scheduler) ``at(2030-01-01T09:00:00)``, and when each fires next.

AWS's cron has six fields, ``minutes hours day-of-month month day-of-week year``, with days of
the week numbered 1-7 from Sunday; croniter (five fields, 0-6 from Sunday) computes the times
after the day-of-week numbers are shifted, and the year field is checked here. Rules fire in
UTC; a Scheduler schedule in its ``ScheduleExpressionTimezone``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

_RATE = re.compile(r"^rate\((?P<value>\d+)\s+(?P<unit>minutes?|hours?|days?)\)$")
_CRON = re.compile(r"^cron\((?P<fields>[^)]*)\)$")
_AT = re.compile(r"^at\((?P<when>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
#: how many cron times are tried for one matching the year field
_YEAR_SEARCH = 1000


class ExpressionError(ValueError):
    """A schedule expression EventBridge would refuse, or one the engine cannot evaluate."""


@dataclass(frozen=True)
class ScheduleExpression:
    """A parsed expression: ``next_after(t)`` is the first firing strictly after epoch ``t``."""

    text: str
    kind: str  # rate | cron | at
    period: float = 0.0  # rate: seconds between firings
    cron: str = ""  # croniter's five fields
    years: str = "*"  # AWS's year field
    at: float = 0.0  # at: the one firing, epoch seconds
    zone: str = "UTC"

    def next_after(self, after: float, anchor: float) -> float | None:
        """The first firing after ``after`` (epoch seconds); rates count from ``anchor`` (when
        the schedule was first seen). None when it never fires again."""
        if self.kind == "rate":
            elapsed = max(0.0, after - anchor)
            return anchor + (int(elapsed // self.period) + 1) * self.period
        if self.kind == "at":
            return self.at if self.at > after else None
        return self._next_cron(after)

    def _next_cron(self, after: float) -> float | None:
        zone = _zone(self.zone)
        start = datetime.fromtimestamp(after, zone)
        first_year = _first_year(self.years)
        if first_year is not None and start.year < first_year:  # skip to the first year at once
            start = datetime(first_year, 1, 1, tzinfo=zone) - timedelta(seconds=1)
        times = croniter(self.cron, start)
        for _ in range(_YEAR_SEARCH):
            when: datetime = times.get_next(datetime)
            if _year_matches(self.years, when.year):
                return when.timestamp()
            if self.years.isdigit() and when.year > int(self.years):
                return None
        return None


def parse_expression(text: str, zone: str = "UTC") -> ScheduleExpression:
    """Parse ``text``; ExpressionError says what is wrong with it."""
    text = text.strip()
    rate = _RATE.match(text)
    if rate:
        value = int(rate["value"])
        if value < 1:
            raise ExpressionError(f"{text}: the rate must be a positive number")
        unit = rate["unit"].rstrip("s")
        return ScheduleExpression(text, "rate", period=float(value * _UNIT_SECONDS[unit]))
    at = _AT.match(text)
    if at:
        local = datetime.fromisoformat(at["when"]).replace(tzinfo=_zone(zone))
        return ScheduleExpression(text, "at", at=local.timestamp(), zone=zone)
    cron = _CRON.match(text)
    if cron:
        fields = cron["fields"].split()
        if len(fields) != 6:
            raise ExpressionError(
                f"{text}: cron takes six fields (minutes hours day-of-month month day-of-week "
                f"year), got {len(fields)}"
            )
        minutes, hours, days, months, weekdays, years = fields
        if days != "?" and weekdays != "?":
            raise ExpressionError(
                f"{text}: one of day-of-month and day-of-week must be '?' (EventBridge's rule)"
            )
        five = " ".join([minutes, hours, days, months, _shift_weekdays(weekdays)])
        if not croniter.is_valid(five) or not _valid_years(years):
            raise ExpressionError(f"{text}: not a cron expression the engine can evaluate")
        return ScheduleExpression(text, "cron", cron=five, years=years, zone=zone)
    raise ExpressionError(
        f"{text!r} is not a schedule expression: expected rate(N minutes|hours|days), "
        "cron(minutes hours day-of-month month day-of-week year) or at(yyyy-mm-ddThh:mm:ss)"
    )


def _shift_weekdays(field: str) -> str:
    """AWS numbers days of the week 1-7 from Sunday; croniter 0-6."""
    if field in ("?", "*"):
        return field

    def shift(part: str) -> str:
        if "#" in part:  # 2#1: the first Monday; only the day shifts
            day, nth = part.split("#", 1)
            return f"{shift(day)}#{nth}"
        if part.endswith("L") and part[:-1].isdigit():
            return f"L{int(part[:-1]) - 1}"  # croniter writes the last Friday L5
        if "/" in part:
            start, step = part.split("/", 1)
            return f"{shift(start)}/{step}"
        if "-" in part:
            low, high = part.split("-", 1)
            return f"{shift(low)}-{shift(high)}"
        return str(int(part) - 1) if part.isdigit() else part

    return ",".join(shift(part) for part in field.split(","))


def _valid_years(field: str) -> bool:
    return field == "*" or all(
        re.fullmatch(r"\d{4}(-\d{4})?(/\d+)?", part) for part in field.split(",")
    )


def _first_year(field: str) -> int | None:
    if field == "*":
        return None
    return min(int(re.split(r"[-/]", part)[0]) for part in field.split(","))


def _year_matches(field: str, year: int) -> bool:
    if field == "*":
        return True
    for part in field.split(","):
        span, _, step = part.partition("/")
        low, _, high = span.partition("-")
        first, last = int(low), int(high or (low if not step else 9999))
        if first <= year <= last and (year - first) % int(step or 1) == 0:
            return True
    return False


def _zone(name: str) -> tzinfo:
    if name in ("UTC", ""):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ExpressionError(f"unknown time zone {name!r}") from err
