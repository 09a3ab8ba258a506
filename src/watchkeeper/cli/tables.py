"""Rich tables that fit the terminal: names wrap instead of being cut, results never break.

A table gets the console's width. Columns of names and keys fold (wrap anywhere) rather than
end in an ellipsis; columns of results (percentages, rates) never wrap; when even that does
not fit, the least important columns are left out, so an 80-column terminal still shows
every SLO and its result in full.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from rich.table import Table
from rich.text import Text

from watchkeeper.cli.numbers import (
    count,
    forecast,
    objective_percent,
    percent,
    significant,
    sli_percent,
)
from watchkeeper.slo.schemas import SLOStatusRead

Cell = str | Text
_FOLDED_MIN = 24  # narrowest a folding column gets before columns are dropped
_WRAPPED_MIN = 10  # narrowest a word-wrapping column gets


@dataclass(frozen=True)
class Column:
    """How one column behaves when space is short.

    ``drop`` orders the columns left out on a narrow terminal (higher goes first; 0 never).
    ``kind``: ``fold`` for names and keys, ``wrap`` for prose, ``result`` for figures that
    must stay on one line.
    """

    header: str
    kind: Literal["fold", "wrap", "result"] = "result"
    justify: Literal["left", "right"] = "left"
    drop: int = 0


def _text(cell: Cell) -> Text:
    return cell if isinstance(cell, Text) else Text(cell)


def _unfolded(column: Column, cells: Sequence[Text]) -> int:
    """The width at which no name in this column folds (prose may still wrap)."""
    if column.kind == "wrap":
        return _needed(column, cells)
    return max([len(column.header), *(cell.cell_len for cell in cells)])


def _needed(column: Column, cells: Sequence[Text]) -> int:
    """The narrowest this column can be without cutting a result or folding a name badly."""
    if column.kind == "result":
        return _unfolded(column, cells)
    header = len(column.header)
    longest = max((cell.cell_len for cell in cells), default=0)
    if column.kind == "fold":
        return max(min(header, _FOLDED_MIN), min(longest, _FOLDED_MIN))
    words = [len(word) for cell in cells for word in cell.plain.split()]
    return max(min(header, _WRAPPED_MIN), min(max(words, default=0), _WRAPPED_MIN))


def _kept_columns(columns: Sequence[Column], cells: list[list[Text]], width: int) -> list[int]:
    """Which columns to show in ``width``: all if they fit; else leave out the least important.

    Columns are left out, in ``drop`` order, until the rest fit without folding any name. If
    that cannot be done, as few are left out as folding the names (and wrapping prose) needs.
    """
    by_importance = sorted(
        (i for i, c in enumerate(columns) if c.drop > 0), key=lambda i: (-columns[i].drop, -i)
    )

    def fits(kept: list[int], measure: Callable[[Column, Sequence[Text]], int]) -> bool:
        # Each column has one space of padding each side and a rule; one more rule closes it.
        return 1 + sum(measure(columns[i], [row[i] for row in cells]) + 3 for i in kept) <= width

    for measure in (_unfolded, _needed):
        kept = list(range(len(columns)))
        for dropped in [None, *by_importance]:
            if dropped is not None:
                kept.remove(dropped)
            if fits(kept, measure):
                return kept
    return [i for i in range(len(columns)) if columns[i].drop == 0]


def fitted_table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[Cell]],
    *,
    width: int,
    title: str | None = None,
    show_header: bool = True,
) -> Table:
    """A table of ``rows`` no wider than ``width``, leaving out columns by ``drop`` if it must."""
    cells = [[_text(cell) for cell in row] for row in rows]
    kept = _kept_columns(columns, cells, width)
    table = Table(title=Text(title) if title else None, show_header=show_header)
    for i in kept:
        column = columns[i]
        result = column.kind == "result"
        table.add_column(
            column.header,
            justify=column.justify,
            overflow="fold",
            no_wrap=result,
            min_width=_needed(column, [row[i] for row in cells]) if result else None,
        )
    for row in cells:
        table.add_row(*(row[i] for i in kept))
    return table


def budget_cell(remaining: float | None, digits: int = 1) -> Text:
    """Budget remaining as a percentage, red when spent."""
    text = percent(remaining, digits)
    return Text(text, style="red" if remaining is not None and remaining < 0 else "")


def firing_cell(status: SLOStatusRead) -> Text:
    """The burn-rate alerts firing, e.g. ``page 1h/5m``."""
    firing = ", ".join(f"{a.severity} {a.long}/{a.short}" for a in status.alerts if a.firing)
    return Text(firing, style="bold red" if firing else "")


def status_table(statuses: list[SLOStatusRead], *, width: int, title: str = "SLOs") -> Table:
    """One row per SLO: SLI, budget left, 1h and 6h burn rates, firing alerts."""
    columns = [
        Column("SLO", kind="fold"),
        Column("SLI", justify="right"),
        Column("budget left", justify="right"),
        Column("burn 1h", justify="right", drop=2),
        Column("burn 6h", justify="right", drop=3),
        Column("firing", kind="wrap"),
    ]
    rows: list[list[Cell]] = [
        [
            status.key,
            sli_percent(status.sli, status.objective),
            budget_cell(status.error_budget_remaining),
            significant(status.burn_rates.get("1h")),
            significant(status.burn_rates.get("6h")),
            firing_cell(status),
        ]
        for status in statuses
    ]
    return fitted_table(columns, rows, width=width, title=title)


def figures_table(status: SLOStatusRead, *, width: int) -> Table:
    """Every figure of one SLO, one per line."""
    rows: list[list[Cell]] = [
        ["objective", objective_percent(status.objective)],
        [
            "window",
            f"{status.window} from {status.window_start:%Y-%m-%d %H:%M} UTC"
            if status.window_start
            else status.window,
        ],
        [
            "events",
            "-" if status.total is None else f"{count(status.good)} good of {count(status.total)}",
        ],
        ["SLI", sli_percent(status.sli, status.objective)],
        ["error budget left", budget_cell(status.error_budget_remaining, 2)],
        ["burn rates", "  ".join(f"{k} {significant(v)}" for k, v in status.burn_rates.items())],
        ["budget", forecast(status.exhaustion_at, status.at)],
    ]
    columns = [Column("figure", kind="wrap"), Column("value", kind="wrap")]
    return fitted_table(columns, rows, width=width, title=status.key, show_header=False)


def alerts_table(status: SLOStatusRead, *, width: int) -> Table:
    """The SLO's multiwindow burn-rate alerts with both windows' rates."""
    columns = [
        Column("severity"),
        Column("long"),
        Column("short"),
        Column("factor", justify="right", drop=1),
        Column("burn long", justify="right"),
        Column("burn short", justify="right"),
        Column("firing"),
    ]
    rows: list[list[Cell]] = [
        [
            alert.severity,
            alert.long,
            alert.short,
            f"{alert.factor:.4g}",
            significant(alert.long_burn_rate),
            significant(alert.short_burn_rate),
            Text("FIRING", style="bold red") if alert.firing else "no",
        ]
        for alert in status.alerts
    ]
    return fitted_table(columns, rows, width=width, title="burn-rate alerts")
