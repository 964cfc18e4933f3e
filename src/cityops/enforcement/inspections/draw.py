"""The random draw of a 双随机 plan: targets from the business directory and inspectors from
the roster, reproducibly. Pure: rows come in, the draw goes out.

Reproducible means: the same seed over the same directory and roster gives the same draw,
whatever order the rows came in (both are sorted by a stable key — the credit code, the
certificate number — before `random.Random(seed)` is used), and the record says how many
candidates there were and a digest of their keys, so that anyone can check a re-run drew
from the same directory. An officer recorded as conflicting with a business (回避) is
never drawn for it."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

# Administrative Penalty Law Art. 42: no fewer than two officers inspect.
MIN_PER_TARGET = 2


class Candidate(NamedTuple):
    """A business that may be drawn: its id, its stable key (credit code), its region.
    (Tuples: a city's directory is a hundred thousand of them, made in a blink.)"""

    id: int
    key: str
    region_code: str


class Inspector(NamedTuple):
    """An officer that may be drawn: id, stable key (certificate number), agency and the
    regions they may act in (a code covers the regions below it)."""

    id: int
    key: str
    agency_id: int
    regions: tuple[str, ...]


@dataclass(frozen=True)
class Target:
    business_id: int
    key: str
    officer_ids: tuple[int, ...]


@dataclass(frozen=True)
class Shortfall:
    """A drawn business for which too few officers may act (their regions, conflicts)."""

    business_id: int
    key: str
    region_code: str
    available: int


@dataclass(frozen=True)
class Draw:
    """What was drawn, from how many, and the digests to check a re-run against."""

    seed: int
    candidates: int
    candidates_digest: str
    roster: int
    roster_digest: str
    targets: tuple[Target, ...]
    shortfalls: tuple[Shortfall, ...] = field(default=())

    def record(self) -> dict[str, object]:
        """The draw as the plan records it (JSON)."""
        return {
            "seed": self.seed,
            "candidates": self.candidates,
            "candidates_digest": self.candidates_digest,
            "roster": self.roster,
            "roster_digest": self.roster_digest,
            "targets": [
                {"business_id": t.business_id, "key": t.key, "officer_ids": list(t.officer_ids)}
                for t in self.targets
            ],
            "shortfalls": [
                {"business_id": s.business_id, "key": s.key, "available": s.available}
                for s in self.shortfalls
            ],
        }


def digest(keys: Iterable[str]) -> str:
    """SHA-256 of the sorted keys, each followed by a new line: the same set gives the same
    digest (`sha256sum` of the sorted list of credit codes, one per line)."""
    ordered = sorted(keys)
    text = "\n".join(ordered) + "\n" if ordered else ""
    return hashlib.sha256(text.encode()).hexdigest()


def _covering(roster: Sequence[Inspector]) -> dict[str, list[Inspector]]:
    by_region: dict[str, list[Inspector]] = {}
    for inspector in roster:
        for code in inspector.regions:
            by_region.setdefault(code, []).append(inspector)
    return by_region


def draw(
    candidates: Sequence[Candidate],
    roster: Sequence[Inspector],
    *,
    count: int,
    per_target: int,
    seed: int,
    conflicts: Mapping[int, set[int]] | None = None,
) -> Draw:
    """Draw `count` targets (all candidates when there are fewer) and `per_target`
    officers for each from those whose regions cover its region, leaving out officers who
    conflict with it. Targets for which too few officers remain are reported as shortfalls
    (with no officers drawn for them) rather than filled with fewer."""
    if per_target < MIN_PER_TARGET:
        raise ValueError(f"at least {MIN_PER_TARGET} officers per target")
    conflicts = conflicts or {}
    ordered = sorted(candidates, key=lambda c: c.key)
    officers = sorted(roster, key=lambda o: o.key)
    rng = random.Random(seed)
    chosen = rng.sample(ordered, min(count, len(ordered)))
    by_region = _covering(officers)
    # Many targets share a street: who covers a region is worked out once per region,
    # from the index of the roster's regions (a region is covered by any prefix of it).
    eligible: dict[str, list[Inspector]] = {}
    targets, shortfalls = [], []
    for business in chosen:
        pool = eligible.get(business.region_code)
        if pool is None:
            code = business.region_code
            found = {o.id: o for n in range(1, len(code) + 1) for o in by_region.get(code[:n], ())}
            pool = eligible[code] = sorted(found.values(), key=lambda o: o.key)
        excluded = conflicts.get(business.id, set())
        free = [o for o in pool if o.id not in excluded] if excluded else pool
        if len(free) < per_target:
            shortfalls.append(Shortfall(business.id, business.key, business.region_code, len(free)))
            continue
        picked = rng.sample(free, per_target)
        targets.append(Target(business.id, business.key, tuple(o.id for o in picked)))
    return Draw(
        seed=seed,
        candidates=len(ordered),
        candidates_digest=digest(c.key for c in ordered),
        roster=len(officers),
        roster_digest=digest(o.key for o in officers),
        targets=tuple(targets),
        shortfalls=tuple(shortfalls),
    )
