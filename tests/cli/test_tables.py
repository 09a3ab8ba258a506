"""CLI figures and tables: readable numbers, and tables that fit an 80-column terminal."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rich.console import Console
from rich.table import Table

from watchkeeper.cli.numbers import (
    count,
    forecast,
    objective_percent,
    percent,
    significant,
    sli_percent,
)
from watchkeeper.cli.tables import Column, alerts_table, figures_table, fitted_table, status_table
from watchkeeper.slo.schemas import AlertRead, SLOStatusRead

AT = datetime(2026, 11, 23, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (24_192_100.0, "24,192,100"),
        (1_235_570.0, "1,235,570"),
        (999.0, "999"),
        (0.0, "0"),
        (2.5, "2.5"),
        (None, "-"),
    ],
)
def test_counts_are_written_in_full(value: float | None, shown: str) -> None:
    assert count(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (14.4, "14.4"),
        (6.0, "6.00"),
        (0.9333333333, "0.933"),
        (1234.5, "1,230"),
        (24_192_100.0, "24,200,000"),
        (0.000123456, "0.000123"),
        # 1 - 0.999 is 0.0010000000000000009: a burn of 10 is 9.999999999999991.
        (9.999999999999991, "10.0"),
        (9.996, "10.0"),
        (0.0, "0"),
        (None, "-"),
    ],
)
def test_rates_have_three_significant_digits_never_an_exponent(
    value: float | None, shown: str
) -> None:
    assert significant(value) == shown


@pytest.mark.parametrize(
    ("objective", "shown", "sli", "sli_shown"),
    [
        (0.999, "99.9%", 0.9995, "99.950%"),
        (0.99, "99%", 0.995, "99.500%"),
        (0.9995, "99.95%", 0.99949, "99.9490%"),
        (0.99999, "99.999%", 0.999991, "99.99910%"),
        # Rounded down: an SLI just under its objective never shows as meeting it.
        (0.999, "99.9%", 0.9989999, "99.899%"),
        (0.999, "99.9%", None, "no data"),
    ],
)
def test_percentages_carry_the_objective_digits(
    objective: float, shown: str, sli: float | None, sli_shown: str
) -> None:
    assert objective_percent(objective) == shown
    assert sli_percent(sli, objective) == sli_shown


@pytest.mark.parametrize(
    ("value", "digits", "shown"),
    [
        (-1.41, 1, "-141.0%"),
        # 1 - (0.5 / (1 - 0.9)) is -4.000000000000001: float noise is not a digit.
        (1 - 0.5 / (1 - 0.9), 1, "-400.0%"),
        (0.57009, 2, "57.00%"),
        (-141.19, 1, "-14,119.0%"),
        (None, 1, "no data"),
    ],
)
def test_budget_percentages(value: float | None, digits: int, shown: str) -> None:
    assert percent(value, digits) == shown


def test_forecast_in_words() -> None:
    later = datetime(2026, 11, 24, 6, tzinfo=UTC)
    assert forecast(later, AT) == "would exhaust at 2026-11-24 06:00 UTC"
    assert forecast(None, AT) == "not at the current rate"
    assert forecast(AT, AT) == "exhausted already"


def status(key: str, *, sli: float, remaining: float, firing: bool) -> SLOStatusRead:
    service, name = key.split("/")
    return SLOStatusRead(
        service=service,
        name=name,
        key=key,
        objective=0.999,
        window="30d",
        window_start=datetime(2026, 10, 24, 12, tzinfo=UTC),
        at=AT,
        sli_name="checkout-requests",
        good=24_167_908.0,
        total=24_192_100.0,
        sli=sli,
        error_budget_remaining=remaining,
        burn_rates={"5m": 1234.5, "1h": 14.4, "6h": 6.0, "3d": None},
        alerts=[
            AlertRead(
                severity="page",
                long="1h",
                short="5m",
                factor=14.4,
                firing=firing,
                long_burn_rate=14.4,
                short_burn_rate=1234.5,
            )
        ],
        exhaustion_at=datetime(2026, 11, 24, 6, tzinfo=UTC),
    )


LONG_KEYS = [
    "payments-authorisation-gateway-europe-west/checkout-availability-for-card-payments",
    "payments-authorisation-gateway-europe-west/latency",
    "search/availability",
]
STATUSES = [
    status(LONG_KEYS[0], sli=0.9989, remaining=-0.1, firing=True),
    status(LONG_KEYS[1], sli=0.9995, remaining=0.5, firing=False),
    status(LONG_KEYS[2], sli=0.99999, remaining=0.99, firing=False),
]


def render(table: Table, width: int = 80) -> list[str]:
    console = Console(width=width, record=True, color_system=None)
    console.print(table)
    return console.export_text().splitlines()


def column_text(lines: list[str], index: int) -> str:
    """Everything in the body cells of one column, folded pieces joined up."""
    pieces = [line.split("│")[index + 1].strip() for line in lines if line.startswith("│")]
    return "".join(pieces)


def test_status_table_fits_80_columns_without_cutting_names_or_results() -> None:
    lines = render(status_table(STATUSES, width=80, title="SLOs of payments"))
    assert max(len(line) for line in lines) <= 80
    text = "\n".join(lines)
    assert "…" not in text
    keys = column_text(lines, 0)
    for key in LONG_KEYS:
        assert key in keys
    # Every result stays whole on one line.
    for result in ("99.890%", "99.950%", "99.999%", "-10.0%", "50.0%", "99.0%", "page 1h/5m"):
        assert result in text, result


def test_narrow_tables_drop_the_least_important_columns_first() -> None:
    wide = render(status_table(STATUSES, width=200), width=200)
    header = next(line for line in wide if line.startswith("┃"))
    assert "burn 6h" in header and "burn 1h" in header
    assert LONG_KEYS[0] in "\n".join(wide)  # room enough: not folded
    narrow = render(status_table(STATUSES, width=80))
    header = next(line for line in narrow if line.startswith("┃"))
    assert "burn 6h" not in header
    assert all(name in header for name in ("SLO", "SLI", "budget left", "burn 1h", "firing"))


def test_short_names_are_kept_whole_by_leaving_out_a_column() -> None:
    # Four columns of 21-character names and values: too wide for 80 with every column.
    columns = [
        Column("SLO", kind="fold"),
        Column("format", drop=2),
        Column("SLI", kind="fold", drop=1),
        Column("SLI value", justify="right"),
        Column("budget left", justify="right"),
    ]
    rows = [["checkout/availability", "native", "checkout-requests-total", "99.957%", "57.0%"]]
    lines = render(fitted_table(columns, rows, width=80))
    assert max(len(line) for line in lines) <= 80
    assert "checkout/availability" in "\n".join(lines)  # on one line, not folded
    assert "checkout-requests-total" in "\n".join(lines)
    assert "format" not in "\n".join(lines)


def test_figures_and_alerts_tables_fit_80_columns() -> None:
    figures = render(figures_table(STATUSES[0], width=80))
    alerts = render(alerts_table(STATUSES[0], width=80))
    for lines in (figures, alerts):
        assert max(len(line) for line in lines) <= 80
        assert "…" not in "\n".join(lines)
    text = " ".join(" ".join(figures).split())
    assert "24,167,908 good of 24,192,100" in text
    assert "would exhaust at 2026-11-24 06:00 UTC" in text
    assert "1h 14.4" in text and "5m 1,230" in text and "3d -" in text
    assert "99.9%" in text  # the objective as written
    assert "1,230" in "\n".join(alerts)


def test_user_text_is_shown_as_is_not_as_markup() -> None:
    lines = render(fitted_table([Column("SLO", kind="fold")], [["[bold]shop[/bold]/x"]], width=80))
    assert "[bold]shop[/bold]/x" in "\n".join(lines)


def test_when_nothing_fits_only_the_columns_that_cannot_go_remain() -> None:
    columns = [
        Column("SLO", kind="fold"),
        Column("SLI value", justify="right"),
        Column("format", drop=1),
    ]
    table = fitted_table(columns, [["checkout/availability", "99.957%", "native"]], width=20)
    assert [column.header for column in table.columns] == ["SLO", "SLI value"]
