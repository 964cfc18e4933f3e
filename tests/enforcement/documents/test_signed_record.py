"""The on-site record with signatures drawn on a phone: each PNG printed on its line (the
party's, the officers'), the day signed in place of the blank date; a record without them
keeps its lines to sign in ink."""

from __future__ import annotations

import struct
import zlib
from dataclasses import replace
from datetime import date
from io import BytesIO

from pypdf import PdfReader
from tests.enforcement.documents import samples
from tests.enforcement.documents.pdftext import flat

from cityops.enforcement.documents import content as c
from cityops.enforcement.documents.render import render_document


def png(width: int, height: int) -> bytes:
    row = b"\x00" + bytes([10, 10, 60]) * width
    raw = zlib.compress(row * height, 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def images(pdf: bytes) -> list[tuple[int, int]]:
    return [(x.image.width, x.image.height) for p in PdfReader(BytesIO(pdf)).pages
            for x in p.images]  # fmt: skip


def test_signatures_are_printed_on_their_lines() -> None:
    day = date(2026, 11, 20)
    signed = replace(
        samples.on_site_record(),
        signatures=(
            c.SignatureImage("party", "王晓明", png(600, 240), day),
            c.SignatureImage("officer", "张伟", png(640, 256), day),
            c.SignatureImage("officer", "李娜", png(500, 250), day),
        ),
    )
    rendered = render_document(signed)
    assert sorted(images(rendered.pdf)) == [(500, 250), (600, 240), (640, 256)]
    text = flat(rendered.pdf)
    assert "当事人（现场负责人）签名：" in text and "执法人员签名：" in text
    assert text.count("2026年11月20日") >= 2  # the day signed on the two signed lines
    assert "见证人签名：年月日" in text  # no witness signed: the blank line stays


def test_a_record_without_signatures_has_no_images() -> None:
    assert images(render_document(samples.on_site_record()).pdf) == []
