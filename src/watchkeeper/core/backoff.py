"""Retry delays: exponential backoff with full jitter.

AWS Architecture Blog, "Exponential Backoff And Jitter" (2015): the delay before retry n
is uniform in [0, min(cap, base * 2**(n-1))], which spreads retries of many senders.
"""

from __future__ import annotations

from datetime import timedelta


def backoff_ceiling(attempt: int, *, base: timedelta, cap: timedelta) -> timedelta:
    """The largest delay after failed attempt ``attempt`` (1-based): min(cap, base·2^(n-1))."""
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    if base <= timedelta(0):
        return timedelta(0)
    doublings = attempt - 1
    # Compared in float seconds first: base·2^n as a timedelta overflows for large n.
    if doublings >= 64 or base.total_seconds() * 2.0**doublings >= cap.total_seconds():
        return cap
    return base * int(2**doublings)


def full_jitter(attempt: int, *, base: timedelta, cap: timedelta, draw: float) -> timedelta:
    """The delay after failed attempt ``attempt`` for a uniform draw in [0, 1)."""
    if not 0.0 <= draw < 1.0:
        raise ValueError("draw must be in [0, 1)")
    return backoff_ceiling(attempt, base=base, cap=cap) * draw
