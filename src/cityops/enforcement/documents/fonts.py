"""The Chinese faces of enforcement documents: found, checked and registered once.

A document embeds its faces (as subsets), so it prints the same on any viewer. Only
TrueType outlines can be embedded by the PDF library; OpenType faces with PostScript (CFF)
outlines, such as Noto Sans CJK's .otf/.ttc, are skipped when found and refused with a
clear message when configured (convert them with fontTools' `otf2ttf` first).

Order of preference: the configured file (CITYOPS_PDF_FONT, CITYOPS_PDF_TITLE_FONT), then
known locations on Debian, Fedora, Windows and macOS plus the project's own `var/fonts`
(filled by `make fonts`), then whatever fontconfig lists for Chinese.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

from cityops.config import ROOT, Settings, get_settings
from cityops.errors import Unavailable

# A face must hold these to set a document: common Han, the document number's brackets,
# full-width punctuation and Arabic digits.
PROBE = "中华人民共和国行政处罚决定书〔〕（）。，、；：“”《》0123456789"
DEBIAN_PACKAGE = "fonts-arphic-gbsn00lp"
PROJECT_FONTS = ROOT / "var" / "fonts"
NO_FONT = (
    "no Chinese TrueType font for PDF documents: set CITYOPS_PDF_FONT to a .ttf/.ttc file "
    f"or install the Debian package {DEBIAN_PACKAGE}"
)


class FontsUnavailable(Unavailable):
    """No usable Chinese face for PDF documents (503: the server needs a font installed)."""

    code = "pdf-fonts-unavailable"
    title = "No font for PDF documents"


@dataclass(frozen=True)
class FontFile:
    """A font file and, for a collection (.ttc), the index of the face in it."""

    path: Path
    index: int = 0

    @classmethod
    def parse(cls, spec: str | Path) -> FontFile:
        """`/x/y.ttc#1` → the second face of y.ttc; a plain path → its first face."""
        text = str(spec)
        match = re.fullmatch(r"(.+)#(\d+)", text)
        if match:
            return cls(Path(match.group(1)), int(match.group(2)))
        return cls(Path(text))

    def __str__(self) -> str:
        return f"{self.path}#{self.index}" if self.index else str(self.path)


@dataclass(frozen=True, eq=False)
class Face:
    """A registered face: its name in the PDF library, its file and its character map."""

    name: str
    file: FontFile
    family: str
    postscript: str  # the name the PDF gives the embedded subset (after AAAAAA+)
    glyphs: frozenset[int] = field(repr=False)
    ascent: float  # per 1000 units of the em
    descent: float  # negative

    def covers(self, char: str) -> bool:
        return ord(char) in self.glyphs


@dataclass(frozen=True, eq=False)
class FontSet:
    """The faces a document is set in: body (仿宋/宋), title (小标宋/黑), Kai for second-level
    headings, and further faces that fill characters the others lack (e.g. 喆 in a name
    outside GB 2312)."""

    body: Face
    title: Face
    kai: Face
    fallbacks: tuple[Face, ...] = ()
    latin: Face | None = None  # Latin letters and digits beside the body and Kai faces

    def chain(self, role: str) -> tuple[Face, ...]:
        first = {"body": self.body, "title": self.title, "kai": self.kai}[role]
        rest = [f for f in (self.body, self.title, *self.fallbacks) if f is not first]
        return (first, *rest)

    def face_for(self, char: str, role: str) -> Face:
        """The face `char` is drawn in: Latin in the Latin face (not in titles), anything
        else in the first face of the role's chain that has it."""
        if (
            self.latin is not None
            and role != "title"
            and is_latin(char)
            and self.latin.covers(char)
        ):
            return self.latin
        chain = self.chain(role)
        return next((f for f in chain if f.covers(char)), chain[0])

    def faces(self) -> list[Face]:
        seen: list[Face] = []
        for face in (self.body, self.title, self.kai, *self.fallbacks, self.latin):
            if face is None:
                continue
            if face not in seen:
                seen.append(face)
        return seen


# Known locations, best first within each kind. Missing files cost one stat() each.
FANGSONG = (
    "C:/Windows/Fonts/simfang.ttf",
    "/usr/share/fonts/truetype/simfang/simfang.ttf",
    "/Library/Fonts/Fangsong.ttf",
    "/System/Library/Fonts/Supplemental/Fangsong.ttf",
)
SONG = (
    "C:/Windows/Fonts/simsun.ttc",
    "/System/Library/Fonts/Supplemental/Songti.ttc",
    "/Library/Fonts/Songti.ttc",
    str(PROJECT_FONTS / "NotoSerifSC-Regular.ttf"),
    "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/arphic-uming/uming.ttc",
)
KAI = (
    "C:/Windows/Fonts/simkai.ttf",
    "/System/Library/Fonts/Supplemental/Kaiti.ttc",
    "/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
    "/usr/share/fonts/arphic-ukai/ukai.ttc",
)
TITLE = (
    "C:/Windows/Fonts/FZXBSJW.TTF",  # 方正小标宋简体, the face GB/T 9704 names
    str(PROJECT_FONTS / "NotoSerifSC-Bold.ttf"),
)
HEI = (
    "C:/Windows/Fonts/simhei.ttf",
    "C:/Windows/Fonts/msyh.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "/System/Library/Fonts/STHeiti Light.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
# Latin letters and Arabic numerals in a serif face (Times New Roman or a face with its
# metrics), as official documents set them beside Song and FangSong.
LATIN = (
    "C:/Windows/Fonts/times.ttf",
    "/System/Library/Fonts/Supplemental/Times New Roman.ttf",
    "/Library/Fonts/Times New Roman.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/liberation-serif/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
)
LATIN_PROBE = "0123456789ABCXYZabcxyz,.:;%-/()"
# fontconfig family names by kind, for faces installed elsewhere.
_FAMILY_KINDS = (
    ("fangsong", re.compile(r"fangsong|仿宋", re.I)),
    ("song", re.compile(r"song|ming|serif|宋|明", re.I)),
    ("kai", re.compile(r"kai|楷", re.I)),
    ("hei", re.compile(r"hei|sans|gothic|黑", re.I)),
)

_lock = threading.Lock()
_registered: dict[FontFile, Face | None] = {}
_problems: dict[FontFile, str] = {}


def _register(file: FontFile) -> Face | None:
    """The face in `file`, registered with the PDF library; None (reason kept) if it cannot
    be embedded."""
    with _lock:
        if file in _registered:
            return _registered[file]
        face = None
        if not file.path.is_file():
            _problems[file] = "no such file"
        else:
            name = "cityops-" + re.sub(r"[^A-Za-z0-9]+", "-", file.path.stem) + f"-{file.index}"
            try:
                font = TTFont(name, str(file.path), subfontIndex=file.index)
            except TTFError as exc:
                # PostScript (CFF) outlines and broken files land here.
                _problems[file] = str(exc).splitlines()[0]
            except (OSError, ValueError, IndexError) as exc:
                _problems[file] = f"{type(exc).__name__}: {exc}"
            else:
                pdfmetrics.registerFont(font)
                family = font.face.familyName
                face = Face(
                    name=name,
                    file=file,
                    family=family.decode("utf-8", "replace")
                    if isinstance(family, bytes)
                    else str(family or file.path.stem),
                    postscript=_text(font.face.name),
                    glyphs=frozenset(font.face.charToGlyph),
                    ascent=float(font.face.ascent),
                    descent=float(font.face.descent),
                )
        _registered[file] = face
        return face


def _usable(file: FontFile, probe: str = PROBE) -> Face | None:
    """The face in `file` if it can be embedded and has every character of `probe`."""
    face = _register(file)
    if face is None:
        return None
    missing = [c for c in probe if not face.covers(c)]
    if missing:
        _problems[file] = f"lacks characters it must have ({''.join(missing[:5])}…)"
        return None
    return face


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def is_latin(char: str) -> bool:
    """Latin letters, digits and half-width punctuation (the middle dot · is Chinese)."""
    return "!" <= char <= "\u024f" and char != "\u00b7"


def problem(file: FontFile) -> str:
    """Why `file` was not used (after a failed registration)."""
    return _problems.get(file, "")


def _fontconfig(kind: str) -> list[FontFile]:
    """TrueType faces fontconfig lists for Chinese whose family names look like `kind`."""
    program = shutil.which("fc-list")
    if program is None:
        return []
    try:
        out = subprocess.run(
            [program, "--format", "%{file}\t%{index}\t%{fontformat}\t%{family}\n", ":lang=zh"],
            capture_output=True, text=True, timeout=10, check=False,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return []
    pattern = dict(_FAMILY_KINDS)[kind]
    found = []
    for line in sorted(out.splitlines()):
        parts = line.split("\t")
        if len(parts) == 4 and parts[2] == "TrueType" and pattern.search(parts[3]):
            found.append(FontFile(Path(parts[0]), int(parts[1] or 0)))
    return found


def _first(candidates: Iterable[FontFile], probe: str = PROBE) -> Face | None:
    for file in candidates:
        face = _usable(file, probe)
        if face is not None:
            return face
    return None


def _files(paths: Sequence[str]) -> list[FontFile]:
    return [FontFile(Path(p)) for p in paths]


def _configured(spec: Path | None, setting: str) -> Face | None:
    if spec is None:
        return None
    file = FontFile.parse(spec)
    face = _usable(file)
    if face is None:
        why = problem(file)
        if "postscript outlines" in why.lower():
            why = "its PostScript (CFF) outlines cannot be embedded; convert it to TrueType"
        raise FontsUnavailable(
            f"CITYOPS_{setting.upper()}={file} cannot be used: {why} "
            "(give a TrueType .ttf, or a .ttc with #N for its face)"
        )
    return face


def find_fonts(
    body: Path | None = None, title: Path | None = None, *, search: bool = True
) -> FontSet:
    """The faces to set documents in: the configured files, else (with `search`) the best
    faces found on the system.

    Raises FontsUnavailable, naming the setting and the Debian package, when there is none.
    """
    if not search:
        chosen = _configured(body, "pdf_font")
        if chosen is None:
            raise FontsUnavailable(NO_FONT)
        heading = _configured(title, "pdf_title_font") or chosen
        return FontSet(body=chosen, title=heading, kai=chosen)
    chosen_body = _configured(body, "pdf_font") or _first(
        [*_files(FANGSONG), *_fontconfig("fangsong"), *_files(SONG), *_fontconfig("song"),
         *_files(KAI), *_files(HEI), *_fontconfig("kai"), *_fontconfig("hei")]
    )  # fmt: skip
    if chosen_body is None:
        raise FontsUnavailable(NO_FONT)
    chosen_title = (
        _configured(title, "pdf_title_font")
        or _first([*_files(TITLE), *_files(HEI), *_fontconfig("hei")])
        or chosen_body
    )
    kai = _first([*_files(KAI), *_fontconfig("kai")]) or chosen_body
    # Faces that may fill characters the body and title lack, widest coverage first.
    extra = [
        f
        for f in (_first([file]) for file in [*_files(HEI), *_files(SONG), *_files(TITLE)])
        if f is not None and f not in (chosen_body, chosen_title)
    ]
    extra.sort(key=lambda f: -len(f.glyphs))
    latin = _first(_files(LATIN), LATIN_PROBE)
    return FontSet(
        body=chosen_body, title=chosen_title, kai=kai, fallbacks=tuple(extra[:2]), latin=latin
    )


@lru_cache(maxsize=4)
def _cached(body: Path | None, title: Path | None) -> FontSet:
    return find_fonts(body, title)


def default_fonts(settings: Settings | None = None) -> FontSet:
    """The faces the settings name or the system offers, found once per process (a failure
    is not remembered: installing a font is picked up by the next document)."""
    settings = settings or get_settings()
    return _cached(settings.pdf_font, settings.pdf_title_font)
