"""Frames on the wire between processes."""

from __future__ import annotations

import orjson

from cityops.cases.workflow import CaseFacts, State
from cityops.notify.hub import chunks, decode
from cityops.notify.service import Frame


def _frame(i: int, text: str) -> Frame:
    facts = CaseFacts(state=State.HANDLING, region_code="500103001001001", assignee_id=7)
    return Frame(i, i, facts, orjson.dumps({"type": "case", "id": i, "note": text}))


def test_payloads_stay_under_the_limit_even_when_escaping_grows_them() -> None:
    # Quotes double in size once a frame's JSON is a string inside the payload's JSON.
    frames = [_frame(i, '"' * 900 + "占道经营" * 50) for i in range(40)]
    payloads = list(chunks(frames, 7_600, "a"))
    assert all(len(p) <= 7_600 for p in payloads)
    received = [f for p in payloads for f in decode(p, "b")]
    assert [f.id for f in received] == list(range(40))
    assert received[3].data == frames[3].data
    assert received[3].facts == frames[3].facts


def test_a_process_skips_its_own_frames_and_a_frame_too_big_is_not_sent() -> None:
    payloads = list(chunks([_frame(1, "x"), _frame(2, "y" * 10_000)], 7_600, "me"))
    assert len(payloads) == 1
    assert decode(payloads[0], "me") == []
    assert [f.id for f in decode(payloads[0], "other")] == [1]
