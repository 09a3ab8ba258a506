"""Pure SLO math: no I/O, no clock, no framework imports. ``now`` is always a parameter."""
