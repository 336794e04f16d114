"""Durations as definitions write them: ``30s``, ``15m``, ``4h``, ``2d``, ``1w``, ``PT4H``."""

from __future__ import annotations

import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SHORT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*\Z")
# ISO 8601 durations without years and months, whose length varies.
_ISO = re.compile(
    r"P(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?\Z",
    re.IGNORECASE,
)

DURATION_HELP = "use a number and a unit (30s, 15m, 4h, 2d, 1w) or ISO 8601 (PT4H, P1DT2H)"


def parse_duration(value: object) -> float:
    """Seconds in a duration: ``"30s"``, ``"15m"``, ``"4h"``, ``"2d"``, ``"1w"``, ``"PT4H"``.

    ``0`` is allowed (``0m``: at once).  Raises ValueError for anything else, including
    ISO 8601 years and months (their length varies).
    """
    if isinstance(value, str):
        short = _SHORT.match(value)
        if short:
            return float(short[1]) * _UNITS[short[2]]
        iso = _ISO.match(value.strip())
        if iso and value.strip().upper() not in ("P", "PT") and not value.upper().endswith("T"):
            return sum(float(amount) * _UNITS[unit] for unit, amount in iso.groupdict().items()
                       if amount is not None)  # fmt: skip
    raise ValueError(f"invalid duration {value!r}: {DURATION_HELP}")
