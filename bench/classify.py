"""Classifier benchmark: residents' reports to case classes, on the held-out set.

    .venv/bin/python bench/classify.py

Builds the classifier as the server does from the shipped catalog, vocabulary and
services (no closed cases: a new centre's first day), then classifies every report of
`tests/citizens/data/reports.csv` (held out: nothing of it is used to build the
classifier) and prints top-1 and top-3 accuracy, overall and by kind of report (dialect,
typos, English…), the most frequent confusions, the time to build and the time a report
takes (p50/p99), and memory.
"""

from __future__ import annotations

import csv
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from cityops.citizens.classify import build, catalog_classes, vocabulary  # noqa: E402
from cityops.config import Settings  # noqa: E402

REPORTS = ROOT / "tests" / "citizens" / "data" / "reports.csv"
SERVICES = ROOT / "src" / "cityops" / "citizens" / "seed" / "services.csv"


def shipped_services() -> list[tuple[str, str]]:
    with SERVICES.open(encoding="utf-8") as f:
        return [(r["class_code"], f"{r['name']} {r['description']} {r['keywords']}")
                for r in csv.DictReader(f)]  # fmt: skip


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


AUTO_CONFIDENCE = Settings.model_fields["classify_auto_confidence"].default


def rss_mib() -> float:
    """The process's resident memory: the segmenter's dictionary lives outside Python's
    allocator, where tracemalloc would not see it."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    before = rss_mib()
    t0 = time.perf_counter()
    classifier = build(catalog_classes(), vocabulary(), shipped_services())
    built = time.perf_counter() - t0
    grown = rss_mib() - before
    with REPORTS.open(encoding="utf-8") as f:
        reports = list(csv.DictReader(f))
    top1 = top3 = 0
    auto = auto_right = 0  # routed without a person: confidence at the default threshold
    by_kind: dict[str, list[int]] = {}
    confusions: Counter[tuple[str, str]] = Counter()
    times = []
    for r in reports:
        t = time.perf_counter()
        suggestions = classifier.suggest(r["text"], k=3)
        times.append((time.perf_counter() - t) * 1000)
        codes = [s.class_code for s in suggestions]
        hit1, hit3 = codes[:1] == [r["class_code"]], r["class_code"] in codes
        top1 += hit1
        top3 += hit3
        if suggestions and suggestions[0].confidence >= AUTO_CONFIDENCE:
            auto += 1
            auto_right += hit1
        for kind in re.split(r"[,;\s]+", r.get("note") or "plain"):
            counts = by_kind.setdefault(kind, [0, 0, 0])
            counts[0] += 1
            counts[1] += hit1
            counts[2] += hit3
        if not hit1:
            confusions[(r["class_code"], codes[0] if codes else "-")] += 1
    n = len(reports)
    print(f"{n} reports, {len({r['class_code'] for r in reports})} classes; classifier of "
          f"{len(classifier.names)} classes built in {built * 1000:.0f} ms "
          f"(the process grew by {grown:.1f} MiB)")  # fmt: skip
    print(f"top-1 {100 * top1 / n:.1f} %   top-3 {100 * top3 / n:.1f} %   "
          f"(target 85 % / 95 %)")  # fmt: skip
    right = 100 * auto_right / max(auto, 1)
    print(f"routed automatically (confidence ≥ {AUTO_CONFIDENCE}): {auto} of {n} "
          f"({100 * auto / n:.1f} %), {right:.1f} % of them right")  # fmt: skip
    print(f"time a report: p50 {pct(times, 50):.3f} ms, p99 {pct(times, 99):.3f} ms")
    print("by kind            count   top-1   top-3")
    for kind, (count, h1, h3) in sorted(by_kind.items()):
        print(f"  {kind:<16}{count:>6}  {100 * h1 / count:5.1f} %  {100 * h3 / count:5.1f} %")
    print("most frequent confusions (labelled → first suggestion):")
    for (truth, guess), count in confusions.most_common(10):
        print(f"  {truth} {classifier.names.get(truth, '?')} → {guess} "
              f"{classifier.names.get(guess, '?')}: {count}")  # fmt: skip


if __name__ == "__main__":
    main()
