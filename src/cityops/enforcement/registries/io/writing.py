"""Writing checked rows: upserts by key, so ids stay stable across imports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.db import upsert
from cityops.enforcement.registries.io.checks import ArticleKey
from cityops.enforcement.registries.models import (
    Agency,
    AgencyItem,
    AgencyRegion,
    Article,
    Benchmark,
    ChecklistItem,
    Item,
    ItemArticle,
    Law,
    Officer,
    OfficerRegion,
)

Progress = Callable[[str, int, int], None]


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    skipped: int = 0


@dataclass
class ImportSummary:
    """What an import did, per table."""

    tables: dict[str, Counts] = field(default_factory=dict)

    def __str__(self) -> str:
        parts = [
            f"{name} {c.created} created, {c.updated} updated"
            + (f", {c.skipped} kept" if c.skipped else "")
            for name, c in self.tables.items()
        ]
        return "; ".join(parts) or "nothing to import"


def _tick(progress: Progress | None, stage: str, done: int, total: int) -> None:
    if progress is not None and (done % 500 == 0 or done == total):
        progress(stage, done, total)


class Writer:
    def __init__(self, session: Session, keep_existing: bool, progress: Progress | None):
        self.session, self.keep, self.progress = session, keep_existing, progress
        self.summary = ImportSummary()

    def count(self, stage: str, created: bool | None) -> None:
        """Count a row as created, updated, or (None) kept as it was."""
        counts = self.summary.tables.setdefault(stage, Counts())
        if created is None:
            counts.skipped += 1
        elif created:
            counts.created += 1
        else:
            counts.updated += 1

    def _upsert(
        self,
        stage: str,
        model: type[Any],
        existing: Any,
        keys: dict[str, Any],
        values: dict[str, Any],
    ) -> Any:
        """The upserted row, or None when it exists and existing rows are kept."""
        if existing is not None and self.keep:
            self.count(stage, None)
            return None
        row, created = upsert(self.session, model, existing, keys, values)
        self.count(stage, created)
        return row

    def laws(self, rows: list[dict[str, Any]]) -> None:
        have = {(law.code, law.version): law for law in self.session.scalars(select(Law))}
        for done, values in enumerate(rows, start=1):
            keys = {"code": values.pop("code"), "version": values.pop("version")}
            self._upsert("laws", Law, have.get((keys["code"], keys["version"])), keys, values)
            _tick(self.progress, "laws", done, len(rows))
        self.session.flush()
        supersede(self.session, {law.code for law in self.session.scalars(select(Law))})

    def articles(self, rows: list[dict[str, Any]]) -> None:
        laws = {(law.code, law.version): law.id for law in self.session.scalars(select(Law))}
        wanted = {laws[(r["key"][0], r["key"][1])] for r in rows}
        query = select(Article).where(Article.law_id.in_(wanted))
        have = {(a.law_id, a.number, a.paragraph, a.item): a for a in self.session.scalars(query)}
        for done, values in enumerate(rows, start=1):
            code, version, number, paragraph, item = values["key"]
            law_id = laws[(code, version)]
            place = {"law_id": law_id, "number": number, "paragraph": paragraph, "item": item}
            self._upsert(
                "articles",
                Article,
                have.get((law_id, number, paragraph, item)),
                place,
                {"label": values["label"], "text": values["text"]},
            )
            _tick(self.progress, "articles", done, len(rows))
        self.session.flush()

    def article_ids(self) -> dict[ArticleKey, int]:
        rows = self.session.execute(
            select(
                Law.code, Law.version, Article.number, Article.paragraph, Article.item, Article.id
            ).join(Article.law)
        )
        return {(c, v, n, p, i): article_id for c, v, n, p, i, article_id in rows}

    def items(self, rows: list[dict[str, Any]]) -> None:
        ids = self.article_ids()
        have = {i.code: i for i in self.session.scalars(select(Item))}
        for done, values in enumerate(rows, start=1):
            basis = values.pop("basis")
            item = self._upsert("items", Item, have.get(values["code"]), {}, values)
            if item is not None:
                # Keep the links that stay (their ids), drop the others, add the new ones.
                wanted = {(ids[key], role.value, p, i) for role, (key, p, i) in basis}
                current = {(b.article_id, b.role, b.paragraph, b.item_no): b for b in item.basis}
                item.basis = [link for key, link in current.items() if key in wanted] + [
                    ItemArticle(article_id=a, role=r, paragraph=p, item_no=i)
                    for a, r, p, i in sorted(wanted - set(current))
                ]
            _tick(self.progress, "items", done, len(rows))
        self.session.flush()

    def _items_by_code(self) -> dict[str, Item]:
        return {i.code: i for i in self.session.scalars(select(Item))}

    def benchmarks(self, rows: list[dict[str, Any]]) -> None:
        """The rows of an item give its whole benchmark: rows are updated in place by
        position (their ids stay), added, and those beyond the file's removed."""
        ids, items = self.article_ids(), self._items_by_code()
        by_item: dict[str, list[dict[str, Any]]] = {}
        for values in rows:
            by_item.setdefault(values.pop("item_code"), []).append(values)
        for code, item_rows in by_item.items():
            item = items[code]
            if self.keep and item.benchmarks:
                for _ in item_rows:
                    self.count("benchmarks", None)
                continue
            current = {b.position: b for b in item.benchmarks}
            for values in item_rows:
                key = values.pop("article")
                values["article_id"] = ids[key] if key else None
                row = current.pop(values["position"], None)
                if row is None:
                    item.benchmarks.append(Benchmark(**values))
                else:
                    for name, value in values.items():
                        setattr(row, name, value)
                self.count("benchmarks", row is None)
            for stale in current.values():
                item.benchmarks.remove(stale)
        self.session.flush()

    def checklist(self, rows: list[dict[str, Any]]) -> None:
        ids, items = self.article_ids(), self._items_by_code()
        for values in rows:
            item = items[values.pop("item_code")]
            key = values.pop("article")
            values["article_id"] = ids[key] if key else None
            existing = next((c for c in item.checklist if c.code == values["code"]), None)
            if existing is not None and self.keep:
                self.count("checklist", None)
                continue
            if existing is None:
                item.checklist.append(ChecklistItem(**values))
            else:
                for name, value in values.items():
                    setattr(existing, name, value)
            self.count("checklist", existing is None)
        self.session.flush()

    def agencies(self, rows: list[dict[str, Any]]) -> None:
        items = {code: i.id for code, i in self._items_by_code().items()}
        have = {a.code: a for a in self.session.scalars(select(Agency))}
        for values in rows:
            regions, powers = values.pop("regions"), values.pop("items")
            agency = self._upsert("agencies", Agency, have.get(values["code"]), {}, values)
            if agency is None:
                continue
            kept = [r for r in agency.regions if r.region_code in regions]
            agency.regions = kept + [
                AgencyRegion(region_code=c)
                for c in regions
                if c not in {r.region_code for r in kept}
            ]
            wanted = {items[c] for c in powers}
            kept_powers = [p for p in agency.powers if p.item_id in wanted]
            agency.powers = kept_powers + [
                AgencyItem(item_id=i)
                for i in sorted(wanted)
                if i not in {p.item_id for p in kept_powers}
            ]
        self.session.flush()

    def officers(self, rows: list[dict[str, Any]]) -> None:
        agencies = {a.code: a.id for a in self.session.scalars(select(Agency))}
        have = {o.certificate_number: o for o in self.session.scalars(select(Officer))}
        for done, values in enumerate(rows, start=1):
            regions = values.pop("regions")
            values["agency_id"] = agencies[values.pop("agency_code")]
            officer = self._upsert(
                "officers", Officer, have.get(values["certificate_number"]), {}, values
            )
            if officer is not None:
                kept = [r for r in officer.regions if r.region_code in regions]
                officer.regions = kept + [
                    OfficerRegion(region_code=c)
                    for c in regions
                    if c not in {r.region_code for r in kept}
                ]
            _tick(self.progress, "officers", done, len(rows))
        self.session.flush()


def supersede(session: Session, codes: set[str]) -> None:
    """Each version of a work is superseded on the day the next one takes effect."""
    for code in codes:
        versions = [
            law
            for law in session.scalars(select(Law).where(Law.code == code))
            if law.effective_on is not None
        ]
        versions.sort(key=lambda law: law.effective_on or date.min)
        for earlier, later in pairwise(versions):
            earlier.superseded_on = later.effective_on
        if versions:
            versions[-1].superseded_on = None
