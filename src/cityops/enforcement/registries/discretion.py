"""Whether a proposed fine keeps to an item's discretion benchmark (裁量基准). Pure: the rows
come in, a verdict goes out. A fine outside the benchmark may still be imposed, but the
penalty case must then give a written reason and go to review."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from cityops.enforcement.registries.models import GRADE_NAMES_ZH, Grade, Party


@dataclass(frozen=True)
class BenchmarkRange:
    """What one benchmark row allows: a range in whole CNY, or multiples of a base amount
    (货值金额…); and the span of that amount the row holds for, if it has one."""

    id: int
    grade: str
    party: str
    circumstance: str
    fine_min: int | None = None
    fine_max: int | None = None
    times_min: float | None = None
    times_max: float | None = None
    base_name: str = ""
    base_from: int | None = None
    base_below: int | None = None
    measure: str = ""

    @property
    def needs_base(self) -> bool:
        """Whether the row can only be judged with the base amount."""
        return any(v is not None for v in (self.times_min, self.times_max, self.base_from,
                                           self.base_below))  # fmt: skip

    def holds_for(self, base_amount: Decimal) -> bool:
        low_ok = self.base_from is None or base_amount >= self.base_from
        return low_ok and (self.base_below is None or base_amount < self.base_below)

    def bounds(self, base_amount: Decimal | None) -> tuple[Decimal, Decimal]:
        """The fine's lowest and highest amount (a multiple needs `base_amount`). A row with
        no fine at all allows nothing above zero."""
        if self.times_min is not None or self.times_max is not None:
            base = base_amount or Decimal(0)
            return (Decimal(str(self.times_min or 0)) * base,
                    Decimal(str(self.times_max or 0)) * base)  # fmt: skip
        low = Decimal(self.fine_min or 0)
        high = Decimal(self.fine_max) if self.fine_max is not None else low
        return low, high


@dataclass(frozen=True)
class AllowedRange:
    benchmark_id: int
    circumstance: str
    party: str
    minimum: Decimal
    maximum: Decimal
    measure: str


@dataclass(frozen=True)
class FineCheck:
    """The verdict: `within` the benchmark or not, the ranges the grade allows for the
    party (and base amount), and in words why not."""

    within: bool
    grade: str
    fine: Decimal
    allowed: list[AllowedRange]
    reason: str

    @property
    def needs_reason(self) -> bool:
        """A fine outside the benchmark needs a written reason (and review)."""
        return not self.within


def applies_to(row_party: str, party: str | None) -> bool:
    """A row for any party applies to everyone; a party-specific row only to that party
    (and to a question that names no party)."""
    return party in (None, Party.ANY) or row_party in (Party.ANY, party)


def judge_fine(
    rows: Iterable[BenchmarkRange],
    grade: Grade,
    fine: Decimal,
    *,
    party: Party | None = None,
    base_amount: Decimal | None = None,
    benchmark_id: int | None = None,
) -> FineCheck:
    """Whether `fine` (CNY) lies within a row of `grade` that applies to `party` and to
    `base_amount`, or within the one row `benchmark_id` when the circumstance is known. The
    bounds are inclusive. 不予处罚 allows no fine whatever the rows say."""
    if fine < 0:
        raise ValueError("a fine cannot be negative")
    if grade is Grade.NONE:
        within = fine == 0
        reason = "" if within else f"{GRADE_NAMES_ZH[grade]} allows no fine"
        return FineCheck(within, grade.value, fine, [], reason)
    candidates = [
        r for r in rows
        if r.grade == grade.value and applies_to(r.party, party)
        and benchmark_id in (None, r.id)
    ]  # fmt: skip
    allowed: list[AllowedRange] = []
    missing: set[str] = set()
    for row in candidates:
        if row.needs_base and base_amount is None:
            missing.add(row.base_name or "the base amount")
            continue
        if base_amount is not None and not row.holds_for(base_amount):
            continue
        low, high = row.bounds(base_amount)
        allowed.append(AllowedRange(row.id, row.circumstance, row.party, low, high, row.measure))
    if any(a.minimum <= fine <= a.maximum for a in allowed):
        return FineCheck(True, grade.value, fine, allowed, "")
    if allowed:
        spans = "; ".join(f"{a.minimum:,.0f}–{a.maximum:,.0f}" for a in allowed)
        reason = f"{fine:,.2f} is outside {GRADE_NAMES_ZH[grade]} ({spans})"
        if missing:
            reason += f"; rows on {', '.join(sorted(missing))} need base_amount"
    elif missing:
        reason = f"the benchmark depends on {', '.join(sorted(missing))}: give base_amount"
    else:
        who = f" for a {party.value}" if party not in (None, Party.ANY) else ""
        amount = f" at {base_amount:,.2f}" if base_amount is not None else ""
        reason = f"the benchmark has no row for {GRADE_NAMES_ZH[grade]}{who}{amount}"
    return FineCheck(False, grade.value, fine, allowed, reason)
