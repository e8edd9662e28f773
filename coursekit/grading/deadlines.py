"""Deadlines: due date, grace period, late penalty, and when each submission came in.

Where the settings come from (later wins): ``grading.toml`` in the submissions folder
(``due``, ``grace``, ``late_penalty``, ``late_cap``, ``policy``), then the command line
(``--due 2026-12-01T23:59+01:00 --grace 15m --late-penalty 10%/day --late-cap 50%``).
The due date must carry a UTC offset (``+01:00`` or ``Z``).

Submission times: ``timestamps.csv`` in the submissions folder (or ``--timestamps FILE``),
one ``name,time`` per line (a header line ``name,time`` is allowed), the time ISO 8601 with
an offset (``2026-12-01T23:59:30+01:00``); a time without an offset is an error naming the
line. With ``--times-from-files`` the file's modification time is used instead (what an LMS
download keeps, if it keeps anything: check it). A submission without a known time is
never late.

Penalty: a submission later than ``due + grace`` is late; it loses ``late_penalty`` of its
points for every started 24 hours after ``due`` (so 1 minute past the grace period is
one day late), at most ``late_cap`` (default 100 %).
"""

from __future__ import annotations

import csv
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

CONFIG_FILE = "grading.toml"
TIMESTAMPS_FILE = "timestamps.csv"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?\s*$")
_UNITS = {"s": 1, None: 60, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_time(text: str, where: str = "") -> datetime:
    """An ISO 8601 time with a UTC offset (``Z`` accepted) as an aware datetime."""
    text = str(text).strip()
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{where}{text!r} is not an ISO 8601 time such as "
                         "2026-12-01T23:59+01:00") from None
    if value.tzinfo is None:
        raise ValueError(f"{where}{text!r} has no UTC offset; write it as e.g. "
                         f"{text}+01:00 or {text}Z")
    return value


def parse_duration(text) -> timedelta:
    """``15m``, ``2h``, ``1d``, ``90s`` (a bare number is minutes)."""
    if isinstance(text, (int, float)):
        return timedelta(minutes=float(text))
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"grace must be a duration such as 15m, 2h or 1d, got {text!r}")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def parse_fraction(text, name: str) -> float:
    """``10%``, ``10%/day``, ``0.1`` → 0.1."""
    raw = str(text).strip().lower().removesuffix("/day").strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a percentage such as 10% (or 10%/day), "
                         f"got {text!r}") from None
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must be between 0% and 100%, got {text!r}")
    return value


@dataclass(frozen=True)
class LatePolicy:
    due: datetime | None = None
    grace: timedelta = timedelta(0)
    per_day: float = 0.0
    cap: float = 1.0

    def assess(self, submitted: datetime | None) -> tuple[bool, float | None, float]:
        """``(late, seconds after due, penalty fraction)`` for a submission time."""
        if self.due is None or submitted is None:
            return False, None, 0.0
        seconds = (submitted - self.due).total_seconds()
        if seconds <= self.grace.total_seconds():
            return False, seconds, 0.0
        days = math.ceil(seconds / 86400)
        return True, seconds, round(min(self.cap, days * self.per_day), 6)

    def describe(self) -> str:
        if self.due is None:
            return "no due date: nothing is late"
        grace = f", grace {self.grace.total_seconds() / 60:g} min" if self.grace else ""
        return (f"due {self.due.isoformat()}{grace}; late: −{self.per_day:.0%} per started "
                f"24 h after the due time, at most −{self.cap:.0%}")

    def as_dict(self) -> dict:
        return {"due": self.due.isoformat() if self.due else None,
                "grace_seconds": self.grace.total_seconds(), "per_day": self.per_day,
                "cap": self.cap}


def load_config(submissions: Path) -> dict:
    """``grading.toml`` of the submissions folder as a dict (empty when absent)."""
    import tomllib

    path = Path(submissions) / CONFIG_FILE
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path}: {error}") from None
    unknown = set(data) - {"due", "grace", "late_penalty", "late_cap", "policy"}
    if unknown:
        raise ValueError(f"{path}: unknown settings {sorted(unknown)}; known: due, grace, "
                         "late_penalty, late_cap, policy")
    return data


def make_policy(config: dict, due=None, grace=None, late_penalty=None,
                late_cap=None) -> LatePolicy:
    """The late policy from ``grading.toml`` values, overridden by the command line."""
    due = due if due is not None else config.get("due")
    if isinstance(due, datetime):
        if due.tzinfo is None:
            raise ValueError(f"due {due} has no UTC offset")
        due_time = due
    else:
        due_time = parse_time(due, "due: ") if due else None
    grace = grace if grace is not None else config.get("grace", "0m")
    per_day = late_penalty if late_penalty is not None else config.get("late_penalty", "0%")
    cap = late_cap if late_cap is not None else config.get("late_cap", "100%")
    return LatePolicy(due_time, parse_duration(grace), parse_fraction(per_day, "late penalty"),
                      parse_fraction(cap, "late cap"))


def read_timestamps(path: Path) -> dict[str, datetime]:
    """``{submission name (NFC): time}`` from a ``name,time`` CSV file."""
    path = Path(path)
    times = {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for number, row in enumerate(csv.reader(handle), 1):
            if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                continue
            if number == 1 and row[0].strip().lower() in ("name", "submission", "student"):
                continue
            if len(row) < 2:
                raise ValueError(f"{path} line {number}: expected name,time, got {row!r}")
            name = unicodedata.normalize("NFC", row[0].strip())
            times[name] = parse_time(row[1], f"{path} line {number}: ")
    return times


def file_time(path: Path) -> datetime:
    return datetime.fromtimestamp(Path(path).stat().st_mtime, timezone.utc)


def utc(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat(timespec="seconds") if value else None
