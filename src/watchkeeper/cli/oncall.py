"""``watchkeeper oncall ...``: schedules and escalation policies."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from watchkeeper.cli.context import cli_state, parse_time
from watchkeeper.cli.output import console, error_console, guarded, print_json
from watchkeeper.cli.tables import Column, fitted_table
from watchkeeper.core.duration import format_duration
from watchkeeper.core.escalation import EscalationPolicy
from watchkeeper.db import utcnow
from watchkeeper.errors import InvalidInput
from watchkeeper.oncall import ical, service
from watchkeeper.oncall.documents import (
    CalendarOrigin,
    DocumentSet,
    definition_of,
    read_text,
)
from watchkeeper.specs.problems import Problem, SpecError

app = typer.Typer(no_args_is_help=True, help="On-call schedules and escalation policies.")
policy_app = typer.Typer(no_args_is_help=True, help="Escalation policies.")
app.add_typer(policy_app, name="policy")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
MAX_FILE_BYTES = 4 * 1024 * 1024
DEFAULT_SHOW = timedelta(days=7)


def _say(text: str) -> None:
    console.print(text, markup=False, highlight=False)


def iso(moment: datetime) -> str:
    """An instant as RFC 3339 UTC with a Z."""
    return moment.isoformat().replace("+00:00", "Z")


def ended_note(origin: CalendarOrigin | None, at: datetime) -> str | None:
    """The warning for an instant at or past the end of an imported calendar, else None."""
    if origin is None or at < origin.covered_until:
        return None
    return f"the imported calendar ends at {iso(origin.covered_until)}; re-import it"


def origin_json(origin: CalendarOrigin | None) -> dict[str, str] | None:
    """An imported calendar's source and end as JSON (None for a YAML schedule)."""
    if origin is None:
        return None
    return {"source": origin.source, "covered_until": iso(origin.covered_until)}


def read_files(paths: list[Path]) -> DocumentSet:
    """Read YAML files (or every .yaml/.yml in directories) into one document set."""
    documents = DocumentSet()
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")))
        else:
            files.append(path)
    for file in files:
        try:
            if file.stat().st_size > MAX_FILE_BYTES:
                raise OSError(f"larger than {MAX_FILE_BYTES // 1024 // 1024} MiB")
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            documents.problems.append(Problem(str(file), 0, None, "", f"cannot read: {reason}"))
            continue
        read_text(text, str(file), documents)
    return documents


@app.command()
@guarded
def apply(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="YAML files or directories.")],
    json_output: JsonOption = False,
) -> None:
    """Create or update schedules and escalation policies from YAML (all or nothing)."""
    documents = read_files(paths)
    if documents.problems:
        raise SpecError(documents.problems)
    with cli_state(ctx).session() as session:
        result = service.apply(session, documents=documents, now=utcnow())
    if json_output:
        print_json(result.__dict__)
        return
    for label, names, what in (
        ("created", result.created, "schedule"),
        ("updated", result.updated, "schedule"),
        ("unchanged", result.unchanged, "schedule"),
        ("created", result.policies_created, "escalation policy"),
        ("updated", result.policies_updated, "escalation policy"),
        ("unchanged", result.policies_unchanged, "escalation policy"),
    ):
        for name in names:
            _say(f"{what} {name} {label}")


@app.command()
@guarded
def who(
    ctx: typer.Context,
    schedule: Annotated[str, typer.Option("--schedule", help="Schedule name.")],
    at: Annotated[
        str | None, typer.Option(help="Instant (RFC 3339 or Unix s; default now).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Who is on call in a schedule now (or at --at)."""
    when = parse_time(at) if at else utcnow()
    with cli_state(ctx).session() as session:
        users = service.who(session, name=schedule, at=when)
        note = ended_note(service.calendar_end(session, name=schedule), when)
    if note is not None:
        # On stderr: --json keeps its exact shape and scripts reading stdout are unchanged.
        error_console.print(f"warning: {note}", markup=False, highlight=False, soft_wrap=True)
    if json_output:
        print_json({"schedule": schedule, "at": iso(when), "oncall": list(users)})
        return
    _say(f"{', '.join(users)}" if users else f"nobody is on call in {schedule} at {iso(when)}")


@app.command("list")
@guarded
def list_command(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """List schedules with who is on call now."""
    now = utcnow()
    with cli_state(ctx).session() as session:
        rows = [
            (
                r.name,
                r.time_zone,
                r.source,
                service.who(session, name=r.name, at=now),
                service.calendar_end(session, name=r.name),
            )
            for r in service.list_schedules(session)
        ]
    if json_output:
        print_json(
            [
                {
                    "name": n,
                    "time_zone": z,
                    "source": s,
                    "oncall": list(u),
                    "imported": origin_json(o),
                }
                for n, z, s, u, o in rows
            ]
        )
        return
    columns = [
        Column("schedule", kind="fold"),
        Column("time zone", drop=1),
        Column("source", drop=3),
        Column("on call now", kind="wrap"),
        Column("covered until", kind="fold", drop=2),
    ]
    cells = [[n, z, s, ", ".join(u) or "nobody", _covered(o, now)] for n, z, s, u, o in rows]
    console.print(fitted_table(columns, cells, width=console.width, title="Schedules"))
    for name, *_, origin in rows:
        note = ended_note(origin, now)
        if note is not None:
            _say(f"{name}: {note}")


def _covered(origin: CalendarOrigin | None, now: datetime) -> str:
    if origin is None:
        return "-"
    return iso(origin.covered_until) + (" (ENDED)" if now >= origin.covered_until else "")


@app.command()
@guarded
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Schedule name.")],
    from_: Annotated[str | None, typer.Option("--from", help="Start (default now).")] = None,
    to: Annotated[str | None, typer.Option("--to", help="End (default 7 days on).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Show a schedule's final schedule and gaps over a period."""
    start = parse_time(from_) if from_ else utcnow()
    end = parse_time(to) if to else service.span_end(start, DEFAULT_SHOW, field_name="--from")
    if end <= start:
        raise InvalidInput("--to must be after --from")
    if end - start > timedelta(days=366):
        raise InvalidInput("--from/--to: show at most 366 days at once")
    with cli_state(ctx).session() as session:
        record = service.schedule_record(session, name=name)
        definition, zone = definition_of(record.spec), record.time_zone
        origin = service.calendar_end(session, name=name)
        shifts, holes = service.final(session, name=name, start=start, end=end)
    if json_output:
        print_json(
            {
                "name": name,
                "time_zone": zone,
                "from": iso(start),
                "to": iso(end),
                "imported": origin_json(origin),
                "definition": definition,
                "shifts": [
                    {
                        "users": list(s.users),
                        "start": iso(s.start),
                        "end": iso(s.end),
                        "layer": s.layer,
                    }
                    for s in shifts
                ],
                "gaps": [{"start": iso(a), "end": iso(b)} for a, b in holes],
            }
        )
        return
    columns = [
        Column("from", kind="fold"),
        Column("to", kind="fold"),
        Column("on call", kind="wrap"),
        Column("layer", drop=1),
    ]
    rows: list[list[Any]] = [
        [iso(s.start), iso(s.end), ", ".join(s.users), s.layer] for s in shifts
    ]
    rows.extend([iso(a), iso(b), "GAP: nobody", "-"] for a, b in holes)
    rows.sort(key=lambda row: row[0])
    console.print(fitted_table(columns, rows, width=console.width, title=f"{name} ({zone})"))
    if holes:
        _say(f"{len(holes)} gap(s) with nobody on call")
    if origin is not None:
        _say(f"imported from {origin.source}, covered until {iso(origin.covered_until)}")
        note = ended_note(origin, end)
        if note is not None:
            _say(note)


def _policy_document(policy: EscalationPolicy) -> dict[str, Any]:
    return policy.to_json()


@policy_app.command("list")
@guarded
def policy_list(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """List escalation policies."""
    with cli_state(ctx).session() as session:
        policies = service.list_policies(session)
    if json_output:
        print_json([_policy_document(p) for p in policies])
        return
    columns = [Column("policy", kind="fold"), Column("steps"), Column("repeat")]
    cells = [[p.name, str(len(p.steps)), str(p.repeat)] for p in policies]
    console.print(fitted_table(columns, cells, width=console.width, title="Escalation policies"))


@policy_app.command("show")
@guarded
def policy_show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Policy name.")],
    json_output: JsonOption = False,
) -> None:
    """Show an escalation policy's steps."""
    with cli_state(ctx).session() as session:
        policy = service.escalation_policy(session, name)
    if json_output:
        print_json(_policy_document(policy))
        return
    columns = [Column("step", justify="right"), Column("targets", kind="wrap"), Column("then wait")]
    cells = [
        [
            str(index + 1),
            ", ".join(
                f"{t.kind.value} {t.name}" + (f" layer {t.layer}" if t.layer else "")
                for t in step.targets
            ),
            format_duration(step.wait),
        ]
        for index, step in enumerate(policy.steps)
    ]
    console.print(fitted_table(columns, cells, width=console.width, title=f"policy {name}"))
    _say(f"repeats {policy.repeat} more time(s) after the last step")


@app.command("export")
@guarded
def export_command(
    ctx: typer.Context,
    schedule: Annotated[str | None, typer.Option("--schedule", help="A schedule's shifts.")] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="A user's shifts, all schedules.")
    ] = None,
    days: Annotated[int, typer.Option(help="Horizon from now, in days.", min=1, max=366)] = 30,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File (default stdout).")
    ] = None,
) -> None:
    """Export shifts as iCalendar (one VEVENT per shift) for a schedule or a user."""
    if (schedule is None) == (user is None):
        raise InvalidInput("give exactly one of --schedule or --user")
    start = utcnow()
    end = service.span_end(start, timedelta(days=days), field_name="--days")
    with cli_state(ctx).session() as session:
        if schedule is not None:
            data = service.schedule_ical(session, name=schedule, start=start, end=end, now=utcnow())
        else:
            data = service.user_ical(session, user=user or "", start=start, end=end, now=utcnow())
    if output is None:
        sys.stdout.write(data.decode())
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise InvalidInput(f"cannot write {output}: {exc.strerror or exc}") from None
    _say(f"wrote {output}")


@app.command("import")
@guarded
def import_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Schedule to make or replace.")],
    ical_source: Annotated[str, typer.Option("--ical", help="iCalendar file or http(s) URL.")],
    time_zone: Annotated[
        str | None, typer.Option(help="Zone for floating times (default: the calendar's, or UTC).")
    ] = None,
    from_: Annotated[str | None, typer.Option("--from", help="Window start (default now).")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Window end (default 90 days on).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Make or replace a schedule from a calendar whose events' summaries name users."""
    start = parse_time(from_) if from_ else utcnow()
    end = parse_time(to) if to else service.span_end(start, timedelta(days=90), field_name="--from")
    if end - start > timedelta(days=731):
        raise InvalidInput("--from/--to: import at most two years at once")
    state = cli_state(ctx)
    limit = state.settings.ical_max_bytes
    if ical_source.startswith(("http://", "https://")):
        data = ical.fetch(
            ical_source, timeout=state.settings.ical_fetch_timeout_seconds, max_bytes=limit
        )
    else:
        path = Path(ical_source)
        try:
            if path.stat().st_size > limit:
                raise InvalidInput(f"--ical: {path} is larger than {limit:,} bytes")
            data = path.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"--ical: cannot read {path}: {exc.strerror or exc}") from None
    with state.session() as session:
        result = service.import_calendar(
            session,
            name=name,
            calendar=data,
            start=start,
            end=end,
            now=utcnow(),
            origin=ical_source,
            time_zone=time_zone,
        )
    if json_output:
        print_json({**result.__dict__, "covered_until": iso(result.covered_until)})
        return
    _say(
        f"schedule {name} {result.outcome}: {result.shifts} shift(s) in {result.time_zone}, "
        f"covered until {iso(result.covered_until)} (import again before then)"
    )
