"""Rich renderings of SLO status documents."""

from __future__ import annotations

from rich.table import Table

from watchkeeper.slo.schemas import SLOStatusRead


def percent(value: float | None, digits: int = 3) -> str:
    """A ratio as a percentage, or 'no data'."""
    return "no data" if value is None else f"{value * 100:.{digits}f}%"


def number(value: float | None) -> str:
    """A burn rate with 3 significant digits, or '-'."""
    return "-" if value is None else f"{value:.3g}"


def status_table(statuses: list[SLOStatusRead], *, title: str = "SLOs") -> Table:
    """One row per SLO: SLI, budget left, 1h and 6h burn rates, firing alerts."""
    table = Table(title=title)
    table.add_column("SLO")
    table.add_column("SLI", justify="right")
    table.add_column("budget left", justify="right")
    table.add_column("burn 1h", justify="right")
    table.add_column("burn 6h", justify="right")
    table.add_column("firing")
    for status in statuses:
        firing = ", ".join(f"{a.severity} {a.long}/{a.short}" for a in status.alerts if a.firing)
        left = status.error_budget_remaining
        budget = percent(left, 1)
        table.add_row(
            status.key,
            percent(status.sli),
            f"[red]{budget}[/]" if left is not None and left < 0 else budget,
            number(status.burn_rates.get("1h")),
            number(status.burn_rates.get("6h")),
            f"[bold red]{firing}[/]" if firing else "",
        )
    return table


def figures_table(status: SLOStatusRead) -> Table:
    """Every figure of one SLO, one per line."""
    table = Table(title=status.key, show_header=False)
    table.add_column("figure")
    table.add_column("value")
    rows = [
        ("objective", percent(status.objective)),
        (
            "window",
            f"{status.window} from {status.window_start:%Y-%m-%d %H:%M} UTC"
            if status.window_start
            else status.window,
        ),
        ("events", "-" if status.total is None else f"{status.good:g} good of {status.total:g}"),
        ("SLI", percent(status.sli, 4)),
        ("error budget left", percent(status.error_budget_remaining, 2)),
        ("burn rates", "  ".join(f"{k} {number(v)}" for k, v in status.burn_rates.items())),
        (
            "budget exhausted at",
            status.exhaustion_at.strftime("%Y-%m-%d %H:%M UTC")
            if status.exhaustion_at
            else "not at the current rate",
        ),
    ]
    for label, value in rows:
        table.add_row(label, value)
    return table
