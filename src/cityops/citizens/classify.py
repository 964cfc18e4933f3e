"""What a resident's free text is about: the case classes it most likely belongs to, with a
confidence (自动分类).

Each class has a profile learnt from what is known of it: its name and filing condition in
the catalog, the words residents use for it (the vocabulary: everyday words, dialect,
common miswritings, English), the services that map onto it, and the descriptions of the
centre's own closed cases of that class as they accumulate. A text and a profile are
TF-IDF vectors over words (segmented by jieba, the vocabulary's terms kept whole), Chinese
characters and character pairs (which still match when a word is miswritten or segmented
differently) and English words and word pairs; a text goes to the profiles nearest to it
(cosine). Words naming where a problem is rather than what it is (公交站 in 公交站旁边摆摊,
"bus stop" in "sleeping at the bus stop") count less, so that a place that is itself a
class (公交站亭) does not outvote the problem reported there.
"""

from __future__ import annotations

import csv
import math
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import rjieba

SEED_DIR = Path(__file__).parent / "seed"
CATALOG_SEED = Path(__file__).parents[1] / "catalog" / "seed" / "classes.csv"

# How much each source of a class's profile counts.
NAME_WEIGHT = 3.0
TERM_WEIGHT = 2.0
CONDITION_WEIGHT = 1.0
SERVICE_WEIGHT = 1.5
CASE_WEIGHT = 1.0
PAIR_WEIGHT = 0.5  # a character pair counts half a word
CHAR_WEIGHT = 0.4  # a single character less than a pair: 垃 still points at 垃圾 in 垃级
# The softmax's temperature and the score of "none of these", chosen so that confidences
# match accuracy on the development set (tests/citizens/data/dev.csv: of reports given
# 0.8 or more, 97 % are right; the held-out set was not used): a confidence is a
# probability the threshold of automatic routing can be set by.
TEMPERATURE = 0.02
BACKGROUND = 0.1

# Words that say nothing of the problem (function words, reporting phrases).
_STOPWORDS_TEXT = (
    "的 了 是 在 有 我 你 他 她 它 们 这 那 这里 那里 这个 那个 就 都 也 和 与 及 或 把 被 给 "
    "让 请 帮 帮忙 一下 一个 一些 有人 没有 还 又 很 太 好 非常 特别 已经 一直 现在 今天 "
    "昨天 每天 天天 晚上 早上 白天 旁边 附近 门口 对面 路口 小区 反映 投诉 举报 希望 尽快 "
    "处理 解决 管管 管理 部门 相关 问题 情况 严重 影响 市民 居民 大家 我们 你们 他们 "
    "啊 呀 吧 呢 吗 哦 嘛 喔 哈 么 啥 咋 好久 几天 很久 多次 好几次 "
    "the a an is are was were be been of to in on at for and or it this that there "
    "please help my our we i you near next by with from has have not no "
    # English words that carry no class: pronouns, auxiliaries, time of the complaint
    "he she they them their his her its me us your who which what someone somebody people "
    "can could would should will do does did keep keeps kept been being get got just so too "
    "very again still some any all lots lot many much more every since ago as than then "
    "when while because but if about into onto one two day days week weeks month months "
    "hour hours today yesterday now always nobody anyone"
)
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())

# Words after which the word before names where a problem is, not what it is: in
# 公交站旁边摆摊 the stall is the report, the bus stop only its place. Such a word counts
# LOCATION_WEIGHT of a word, plus an "l:" feature that only classes defined by a place
# (绿地脏乱: garbage in a green belt, 水域不洁: garbage in a river) learn from vocabulary
# phrases like 草丛里垃圾.
_LOCATIVES_TEXT = (
    "旁边 后面 下面 上面 前面 里面 外面 附近 边上 旁 边 周边 周围 底下 对面 角落 门口 "
    "上 里 下 内 外 头 脚下 一带 背后 跟前 当中"  # 头: dialect, 坝子头 is 坝子里
)
LOCATIVES = frozenset(_LOCATIVES_TEXT.split())
# The same for English: the (short) noun phrase after these prepositions is a place.
_EN_LOCATIVES_TEXT = "at near outside behind beside under in on opposite across"
EN_LOCATIVES = frozenset(_EN_LOCATIVES_TEXT.split())
_EN_DETERMINERS_TEXT = "the a an our my this that their his her its"
EN_DETERMINERS = frozenset(_EN_DETERMINERS_TEXT.split())
LOCATION_WEIGHT = 0.5

_HAN = re.compile(r"[\u4e00-\u9fff]+")
_LATIN = re.compile(r"[a-z]+")


def _plural(word: str) -> str:
    """English plural to singular, only: bins → bin, boxes → box, batteries → battery."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if (len(word) > 4 and word.endswith("es") and word[-3] in "sxz") or word.endswith(
        ("ches", "shes")
    ):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _stem(word: str) -> str:
    """English words to a common form: lights → light, piled and pile → pil, parked → park,
    flooding → flood. Crude, but residents' English is short and the same crude form is
    taken of the vocabulary, so only consistency matters."""
    word = _plural(word)
    for suffix in ("ing", "ed"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            word = word[: -len(suffix)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]  # stopped → stop, but not fell/pass
            break
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]  # pile/piled, leave/leaves
    return word


@dataclass(frozen=True)
class Suggestion:
    """A class a text may belong to, and how sure the classifier is (0–1)."""

    class_code: str
    name: str
    confidence: float


class Classifier:
    """Profiles of classes, built once from their texts; `suggest` is thread-safe."""

    def __init__(self, names: dict[str, str], texts: Iterable[tuple[str, str, float]],
                 terms: Iterable[str] = ()) -> None:  # fmt: skip
        """`names` of the classes by code; `texts` as (class code, text, weight); `terms`
        are kept whole when a text is segmented (the vocabulary's phrases)."""
        self.names = dict(names)
        self._jieba = rjieba.Jieba()
        for term in terms:
            if _HAN.fullmatch(term):
                self._jieba.add_word(term, 50_000, None)
        self._lock = threading.Lock()  # the segmenter is not safe to share between threads
        counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for code, text, weight in texts:
            if code not in self.names:
                continue
            for feature, n in self.features(text).items():
                counts[code][feature] += n * weight
        df = Counter(f for c in counts.values() for f in c)
        n_classes = max(1, len(counts))
        self.idf = {f: math.log((n_classes + 1) / (d + 1)) + 1.0 for f, d in df.items()}
        # An inverted index of the profiles: feature → [(class, weight)], each profile of
        # unit length.
        self._index: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for code, c in counts.items():
            vector = {f: (1 + math.log(n)) * self.idf[f] for f, n in c.items() if n > 0}
            norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
            for f, v in vector.items():
                self._index[f].append((code, v / norm))

    def features(self, text: str) -> dict[str, float]:
        """Words, character pairs and English word stems of `text`, counted; the words of
        a place (公交站 in 公交站旁边, the bus stop in "at the bus stop") count less."""
        lowered = text.lower()
        out: dict[str, float] = defaultdict(float)
        with self._lock:
            tokens = self._jieba.tokenize(lowered)
        han = [(w, start, end) for w, start, end in tokens if _HAN.fullmatch(w)]
        # Per character of the text, how much it counts: less inside a place's word.
        weight = [1.0] * len(lowered)
        for i, (word, start, end) in enumerate(han):
            after = han[i + 1] if i + 1 < len(han) else None
            if after is not None and after[0] == "的" and i + 2 < len(han):
                after = han[i + 2]
            place = (
                after is not None
                and after[0] in LOCATIVES
                and after[1] <= end + 1  # adjacent, or with 的 between
                and word not in LOCATIVES
            )
            if place:
                for j in range(start, end):
                    weight[j] = LOCATION_WEIGHT
                out["l:" + word] += 1.0
            if word not in STOPWORDS:
                out["w:" + word] += LOCATION_WEIGHT if place else 1.0
        for run in _HAN.finditer(lowered):
            chars = run.group()
            base = run.start()
            for i in range(len(chars) - 1):
                w = min(weight[base + i], weight[base + i + 1])
                out["p:" + chars[i : i + 2]] += PAIR_WEIGHT * w
            for i, char in enumerate(chars):
                if char not in STOPWORDS:
                    out["c:" + char] += CHAR_WEIGHT * weight[base + i]
        self._english(lowered, out)
        return out

    @staticmethod
    def _english(lowered: str, out: dict[str, float]) -> None:
        """English stems, and pairs of neighbouring words (only their plurals undone, so
        "car park" and "cars parked" stay apart); the noun after at/near/on… is a place."""
        words = _LATIN.findall(lowered)
        place = 0  # how many more words are of a place: a short noun phrase at most
        previous = ""
        for word in words:
            if word in EN_LOCATIVES:
                place, previous = 2, ""
                continue
            if word in EN_DETERMINERS or word in STOPWORDS:
                if word not in EN_DETERMINERS:
                    place, previous = 0, ""
                continue
            factor = LOCATION_WEIGHT if place else 1.0
            out["e:" + _stem(word)] += factor
            if place:
                out["l:" + _stem(word)] += 1.0
            place = max(0, place - 1)
            single = _plural(word)
            if previous:
                out["b:" + previous + "_" + single] += factor
            previous = single

    def suggest(self, text: str, k: int = 3) -> list[Suggestion]:
        """The `k` likeliest classes of `text`, likeliest first; none for a text with
        nothing the classifier knows."""
        features = self.features(text)
        query = {f: (1 + math.log(n)) * self.idf[f] if n >= 1 else n * self.idf[f]
                 for f, n in features.items() if f in self.idf}  # fmt: skip
        if not query:
            return []
        norm = math.sqrt(sum(v * v for v in query.values())) or 1.0
        scores: dict[str, float] = defaultdict(float)
        for f, q in query.items():
            for code, v in self._index[f]:
                scores[code] += q / norm * v
        ranked = sorted(scores.items(), key=lambda s: (-s[1], s[0]))
        top = ranked[0][1]
        weights = {code: math.exp((s - top) / TEMPERATURE) for code, s in ranked}
        # "None of these" takes its share too: a text that matches every class weakly
        # (你们管一下吧) is not sure of any, however few classes there are.
        total = sum(weights.values()) + math.exp((BACKGROUND - top) / TEMPERATURE)
        return [Suggestion(code, self.names[code], weights[code] / total)
                for code, _ in ranked[:k]]  # fmt: skip


@dataclass(frozen=True)
class KnownClass:
    code: str
    name: str
    major_name: str
    filing_condition: str


def catalog_classes(path: Path = CATALOG_SEED) -> list[KnownClass]:
    """The classes of a catalog file (the seed's by default)."""
    with path.open(encoding="utf-8") as f:
        return [
            KnownClass(
                ("P" if r["family"] == "part" else "E") + r["major_code"] + r["sub_code"],
                r["name"],
                r["major_name"],
                r["filing_condition"],
            )
            for r in csv.DictReader(f)
        ]


def vocabulary(path: Path = SEED_DIR / "vocabulary.csv") -> dict[str, list[str]]:
    """The words residents use for each class (the seed's by default)."""
    with path.open(encoding="utf-8") as f:
        return {r["class_code"]: [t.strip() for t in r["terms"].split(";") if t.strip()]
                for r in csv.DictReader(f)}  # fmt: skip


def build(
    classes: Sequence[KnownClass],
    terms: dict[str, list[str]],
    services: Iterable[tuple[str, str]] = (),
    cases: Iterable[tuple[str, str]] = (),
) -> Classifier:
    """A classifier of `classes` from their catalog entries, the vocabulary `terms`, the
    services' texts `(class code, name, description and keywords)` and closed cases'
    descriptions `(class code, description)`."""
    texts: list[tuple[str, str, float]] = []
    for c in classes:
        texts.append((c.code, c.name, NAME_WEIGHT))
        texts.append((c.code, c.filing_condition, CONDITION_WEIGHT))
    for code, words in terms.items():
        texts += [(code, w, TERM_WEIGHT) for w in words]
    texts += [(code, text, SERVICE_WEIGHT) for code, text in services]
    texts += [(code, text, CASE_WEIGHT) for code, text in cases]
    all_terms = {w for words in terms.values() for w in words} | {c.name for c in classes}
    return Classifier({c.code: c.name for c in classes}, texts, all_terms)
