"""The weekly trend of flags (raised and closed per rule and agency), shaped for an ECharts
chart: weeks on the x axis, one series per rule and measure."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from cityops.enforcement.supervision import repository
from cityops.enforcement.supervision.checks.common import Env
from cityops.enforcement.supervision.schemas import AgencyTrendRead, SeriesRead, TrendRead
from cityops.enforcement.supervision.service import scoped_filter
from cityops.enforcement.supervision.workflow import Caller
from cityops.errors import FieldProblem, Invalid


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def trends(
    session: Session,
    caller: Caller,
    env: Env,
    *,
    since: date,
    until: date,
    agency_id: int | None = None,
) -> TrendRead:
    """Flags raised and closed (or dismissed) per week, per rule, for one agency or for all
    the caller may see; with each agency's totals and open flags."""
    f = scoped_filter(caller, repository.FlagFilter(agency_id=agency_id))
    if until < since:
        raise Invalid("until is before since", errors=[FieldProblem("until", "before since")])
    if (until - since).days > 3 * 366:
        raise Invalid(
            "at most three years at a time",
            errors=[FieldProblem("since", "more than three years before until")],
        )
    weeks = []
    week = monday(since)
    while week <= until:
        weeks.append(week)
        week += timedelta(days=7)
    index = {w: i for i, w in enumerate(weeks)}
    raised = repository.counts_by_day(
        session, env, column="raised_at", since=since, until=until, agency_id=f.agency_id
    )
    closed = repository.counts_by_day(
        session, env, column="closed_at", since=since, until=until, agency_id=f.agency_id
    )
    rules = {r.id: r for r in repository.rules(session)}
    series: dict[tuple[str, int], list[int]] = {}
    per_agency: dict[int | None, dict[str, int]] = {}
    totals = {"raised": [0] * len(weeks), "closed": [0] * len(weeks)}
    for measure, counts in (("raised", raised), ("closed", closed)):
        for c in counts:
            i = index[monday(c.day)]
            series.setdefault((measure, c.rule_id), [0] * len(weeks))[i] += c.count
            totals[measure][i] += c.count
            agency = per_agency.setdefault(c.agency_id, {"raised": 0, "closed": 0})
            agency[measure] += c.count
    out = []
    for (measure, rule_id), data in sorted(
        series.items(), key=lambda kv: (kv[0][0] != "raised", kv[0][1])
    ):
        rule = rules[rule_id]
        out.append(
            SeriesRead(
                name=f"{rule.title}·{'新增' if measure == 'raised' else '办结'}",
                type="bar" if measure == "raised" else "line",
                stack=measure,
                rule_code=rule.code,
                measure=measure,
                data=data,
            )
        )
    open_counts = repository.open_by_agency(session, f.agency_id)
    names = repository.agency_names(session, [*per_agency, *open_counts])
    agencies = [
        AgencyTrendRead(
            agency_id=a,
            name=names.get(a) if a is not None else None,
            raised=per_agency.get(a, {}).get("raised", 0),
            closed=per_agency.get(a, {}).get("closed", 0),
            open=open_counts.get(a, 0),
        )
        for a in sorted({*per_agency, *open_counts}, key=lambda a: (a is None, a or 0))
    ]
    return TrendRead(
        weeks=weeks, legend=[s.name for s in out], series=out, totals=totals, agencies=agencies
    )
