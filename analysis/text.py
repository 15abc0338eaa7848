"""Chinese text pipeline: normalisation, segmentation with the domain dictionary, stop words.

Nothing heavy happens at import time: the OpenCC converter and the segmenter (rjieba, the Rust
port of jieba's algorithm and dictionary; Python jieba as a fallback) are built on first use and
kept for the life of the process.
"""

from __future__ import annotations

import hashlib
import html
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice, repeat
from pathlib import Path
from typing import Protocol

import numpy as np

DATA_DIR = Path(__file__).parent / "data"
USERDICT_PATH = DATA_DIR / "userdict.txt"
STOPWORDS_PATH = DATA_DIR / "stopwords.txt"

_TAG_RE = re.compile(r"<[^>]{0,400}>")


class _Converter(Protocol):
    def convert(self, text: str) -> str: ...


_lock = threading.Lock()
_converter: _Converter | None = None


def _opencc() -> _Converter:
    global _converter
    if _converter is None:
        with _lock:
            if _converter is None:
                import opencc  # deferred: the converter loads its dictionaries on creation

                _converter = opencc.OpenCC("t2s")
    return _converter


def to_simplified(text: str) -> str:
    """Traditional → Simplified characters (OpenCC t2s); Simplified text passes unchanged."""
    return _opencc().convert(text)


_INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


_WIDE_RE = re.compile("[\uff01-\uff5e\u3000]")
_HALF = {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)} | {"\u3000": " "}


def _half(match: re.Match[str]) -> str:
    return _HALF[match.group()]


def fold_width(text: str) -> str:
    """Full-width letters, digits, punctuation and the ideographic space → half-width;
    zero-width characters removed. One character in, at most one out."""
    # A regex visits only the full-width characters (a dozen in a post); str.translate and
    # NFKC both walk every character and were the slowest steps of normalisation.
    if text.isascii():
        return text
    text = _WIDE_RE.sub(_half, text)
    return _INVISIBLE_RE.sub("", text) if _INVISIBLE_RE.search(text) else text


def fold_width_keeping_positions(text: str) -> str:
    """``fold_width`` without removing anything, so positions in the text stay valid."""
    return _WIDE_RE.sub(_half, text)


def strip_markup(text: str) -> str:
    """Remove leftover HTML tags and entities."""
    if "<" in text:
        text = _TAG_RE.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    return text


_SEPARATOR = "\x00"  # never meaningful in text; separates texts in batch normalisation


def normalise(text: str) -> str:
    """The canonical form every later step sees: Simplified, half-width, lower-case ASCII,
    no markup, single spaces. Idempotent."""
    text = fold_width(strip_markup(text).replace(_SEPARATOR, " "))
    text = to_simplified(text)
    return " ".join(text.split()).lower()




def normalise_many(texts: Sequence[str]) -> list[str]:
    """``normalise`` for a batch, with the same result: one OpenCC call and one vectorised
    width fold for the whole batch instead of a regex and a converter call per text."""
    joined = _SEPARATOR.join(strip_markup(t).replace(_SEPARATOR, " ") for t in texts)
    joined = _INVISIBLE_RE.sub("", joined)  # the width fold below neither makes nor moves them
    codes = np.frombuffer(joined.encode("utf-32-le"), np.uint32).copy()
    wide = (codes >= 0xFF01) & (codes <= 0xFF5E)
    codes[wide] -= 0xFEE0
    codes[codes == 0x3000] = 0x20
    folded = codes.tobytes().decode("utf-32-le")
    return [" ".join(t.split()).lower() for t in to_simplified(folded).split(_SEPARATOR)]


# ---------------------------------------------------------------- segmentation


class _Engine(Protocol):
    def cut(self, text: str) -> list[str]: ...


@dataclass(frozen=True)
class _RJieba:
    tokenizer: object

    def cut(self, text: str) -> list[str]:
        return self.tokenizer.cut(text)  # type: ignore[attr-defined, no-any-return]


@dataclass(frozen=True)
class _PyJieba:
    tokenizer: object

    def cut(self, text: str) -> list[str]:
        return list(self.tokenizer.cut(text))  # type: ignore[attr-defined]


def read_userdict(path: Path = USERDICT_PATH) -> list[tuple[str, int | None, str | None]]:
    """Entries of a jieba user dictionary: ``word [freq] [tag]`` per line, like ``load_userdict``."""
    entries: list[tuple[str, int | None, str | None]] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        parts = raw.strip().split()
        if not parts or parts[0].startswith("#"):
            continue
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        tag = parts[-1] if len(parts) > 1 and not parts[-1].isdigit() else None
        entries.append((parts[0], freq, tag))
    return entries


def _build_rjieba(entries: list[tuple[str, int | None, str | None]]) -> _Engine:
    import rjieba

    tokenizer = rjieba.Jieba()
    for word, freq, tag in entries:
        # freq None makes rjieba suggest a frequency, as jieba's add_word(word) does.
        tokenizer.add_word(word, freq, tag)
    return _RJieba(tokenizer)


def build_jieba(path: Path = USERDICT_PATH) -> _Engine:
    """A Python-jieba engine with the same user dictionary (reference and fallback)."""
    import jieba

    tokenizer = jieba.Tokenizer()
    # jieba logs its cache build at INFO; keep it quiet but don't touch global logging config.
    jieba.setLogLevel(30)
    for word, freq, tag in read_userdict(path):
        tokenizer.add_word(word, freq, tag)
    return _PyJieba(tokenizer)


_engine: _Engine | None = None
_engine_name = ""


def _segmenter() -> _Engine:
    global _engine, _engine_name
    if _engine is None:
        with _lock:
            if _engine is None:
                entries = read_userdict()
                try:
                    _engine, _engine_name = _build_rjieba(entries), "rjieba"
                except ImportError:
                    _engine, _engine_name = build_jieba(), "jieba"
    return _engine


def engine_name() -> str:
    """``rjieba`` or ``jieba`` (fallback when the Rust wheel is missing)."""
    _segmenter()
    return _engine_name


def engine_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{engine_name()} {version(engine_name())}"
    except PackageNotFoundError:
        return engine_name()


def segment(text: str) -> list[str]:
    """Words of an already normalised text, in order, spaces dropped."""
    return [w for w in _segmenter().cut(text) if not w.isspace()]


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """Stop words plus every punctuation, symbol and space character of the BMP: tokens that
    carry no content, tested with one set lookup per token."""
    words = {
        line.strip()
        for line in STOPWORDS_PATH.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    symbols = {
        chr(c) for c in range(0x10000) if unicodedata.category(chr(c))[0] in "PSZC"
    }
    return frozenset(words | symbols)


def tokenize_zh(text: str) -> list[str]:
    """Content words of a normalised text (stop words, punctuation and spaces removed).

    Module-level so that scikit-learn pipelines using it can be pickled.
    """
    stop = stopwords()
    # Normalised text has single spaces, so space tokens are single characters in ``stop``.
    return [w for w in segment_cached(text) if w not in stop]


class _TokenCache:
    """Recent segmentations by text, oldest dropped first: each entry is a slice (start, stop)
    of a token list, so a batch segmented in one call is remembered without copying its
    tokens. Reads take no lock (a dict lookup is atomic); writes do: the daemon's jobs may
    analyse in several threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: dict[str, tuple[list[str], int, int]] = {}
        self.lock = threading.Lock()

    def put_many(self, entries: Iterable[tuple[str, tuple[list[str], int, int]]]) -> None:
        with self.lock:
            self.data.update(entries)
            excess = len(self.data) - self.size
            if excess > 0:
                for text in list(islice(self.data, excess)):
                    del self.data[text]


# Two classifier batches' worth.
_tokens = _TokenCache(2048)


def segment_cached(text: str) -> Sequence[str]:
    """Raw segmentation (stop words included) of a normalised text, remembered for a while:
    classification and clustering segment the same fresh documents one after the other."""
    entry = _tokens.data.get(text)
    if entry is None:
        tokens = _segmenter().cut(text)
        _tokens.put_many([(text, (tokens, 0, len(tokens)))])
        return tokens
    every, start, stop = entry
    return every if start == 0 and stop == len(every) else every[start:stop]


BREAK = "\n"  # never inside a normalised text, and always a token of its own


def segment_joined(texts: Sequence[str]) -> list[str] | None:
    """The tokens of all the texts in order, with one ``BREAK`` token between consecutive
    texts, from one segmenter call on the texts joined by line breaks; None when a text holds
    a line break of its own (it is not normalised).

    Every text gets the tokens it gets alone: a line break ends a run of Chinese characters,
    jieba segments each run on its own, and a line break outside a run is a token by itself.
    """
    joined = BREAK.join(texts)
    if "\r" in joined or joined.count(BREAK) != len(texts) - 1:
        return None
    return _segmenter().cut(joined) if texts else []


def remember_segments(texts: Sequence[str], every: list[str], starts: Sequence[int],
                      stops: Sequence[int]) -> None:
    """Record that ``every[starts[i]:stops[i]]`` are the tokens of ``texts[i]`` (for
    ``segment_cached``)."""
    _tokens.put_many(zip(texts, zip(repeat(every), starts, stops)))


DOMAIN_TERMS_PATH = DATA_DIR / "domain_terms.txt"


@lru_cache(maxsize=1)
def _domain_re() -> re.Pattern[str]:
    words = [w.strip() for w in DOMAIN_TERMS_PATH.read_text(encoding="utf-8").splitlines()
             if w.strip() and not w.startswith("#")]
    return re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True))))


def in_domain(texts: Sequence[str]) -> np.ndarray:
    """Whether each normalised text names anything of the bureau's business."""
    search = _domain_re().search
    return np.fromiter((search(t) is not None for t in texts), bool, len(texts))


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def userdict_hash() -> str:
    return file_sha256(USERDICT_PATH)


def normalise_all(texts: Iterable[str]) -> list[str]:
    """``normalise`` over many texts (the first step of the classifier pipelines)."""
    return normalise_many(list(texts))
