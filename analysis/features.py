"""The TF-IDF vectorizer of the classifiers: domain words plus character uni- and bigrams.

Why not ``TfidfVectorizer(analyzer=...)``: it counts with a Python loop over every feature;
a 200-character post has ~520 features (≈400 of them character n-grams) and that loop alone
held classification to ~3,000 posts/s. Here words are looked up with a C-level
``map(dict.get)`` (one segmentation per document, cached for clustering), and character
n-grams never become Python strings: they are integer keys (code point pairs) computed and
looked up (``searchsorted``) for the whole batch at once with numpy.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import chain, repeat
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.utils.validation import check_is_fitted

from analysis.text import BREAK, remember_segments, segment_cached, segment_joined, tokenize_zh

_SHIFT = 21  # Unicode code points fit in 21 bits; a bigram key is (first << 21) | second


def char_keys(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Integer keys of every character and adjacent character pair, with their row numbers.

    Unigram keys are code points (< 2**21); bigram keys are >= 2**21, so the two never clash.
    Spaces are dropped first, as in the word features.
    """
    compact = [t.replace(" ", "") for t in texts]
    lengths = np.fromiter(map(len, compact), np.int64, len(compact))
    codes = np.frombuffer("".join(compact).encode("utf-32-le"), np.uint32).astype(np.int64)
    rows = np.repeat(np.arange(len(compact), dtype=np.int64), lengths)
    same_row = rows[:-1] == rows[1:]
    pairs = ((codes[:-1] << _SHIFT) | codes[1:])[same_row]
    return np.concatenate([codes, pairs]), np.concatenate([rows, rows[:-1][same_row]])


def key_name(key: int) -> str:
    return chr(key) if key < (1 << _SHIFT) else chr(key >> _SHIFT) + chr(key & ((1 << _SHIFT) - 1))


_DERIVED = ("_lookup", "_words", "_idf")  # built from the fitted state on first use, never saved


class ZhVectorizer(TransformerMixin, BaseEstimator):  # type: ignore[misc]  # sklearn is untyped
    """TF-IDF over ``tokenize_zh`` words and character uni/bigrams of normalised text.

    ``min_df`` and ``max_features`` (by document frequency) apply to words and characters
    together, as in scikit-learn's vectorizers.
    """

    def __init__(self, min_df: int = 2, max_features: int = 60000, sublinear_tf: bool = True) -> None:
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf

    def fit(self, texts: Sequence[str], y: Any = None) -> ZhVectorizer:
        texts = list(texts)
        for derived in _DERIVED:  # lookups built from a previous fit
            self.__dict__.pop(derived, None)
        word_df: Counter[str] = Counter()
        for text in texts:
            word_df.update(set(tokenize_zh(text)))
        keys, rows = char_keys(texts)
        pairs = np.unique(np.stack([keys, rows]), axis=1)  # one count per (key, document)
        char_vocab, char_df = np.unique(pairs[0], return_counts=True)
        entries: list[tuple[int, str | int]] = [
            (n, w) for w, n in word_df.items() if n >= self.min_df
        ]
        entries += [(int(n), int(k)) for k, n in zip(char_vocab, char_df) if n >= self.min_df]
        entries.sort(key=lambda e: (-e[0], str(e[1])))
        kept = [e[1] for e in entries[: self.max_features]]
        words = sorted(x for x in kept if isinstance(x, str))
        self.vocabulary_ = {w: i for i, w in enumerate(words)}
        self.char_keys_ = np.array(sorted(x for x in kept if isinstance(x, int)), dtype=np.int64)
        self.tfidf_ = TfidfTransformer(sublinear_tf=self.sublinear_tf).fit(self.counts(texts))
        return self

    def counts(self, texts: Sequence[str]) -> csr_matrix:
        """Raw term counts (rows = texts) over the fitted vocabulary."""
        texts = list(texts)
        n_words = len(self.vocabulary_)
        word_cols, word_rows = self._word_columns(texts)
        keys, key_rows = char_keys(texts)
        columns = self._char_columns(keys)
        hit = columns >= 0
        cols = np.concatenate([word_cols, n_words + columns[hit]])
        rows = np.concatenate([word_rows, key_rows[hit]])
        known = cols >= 0
        matrix = csr_matrix(
            (np.ones(int(known.sum()), dtype=np.float32), (rows[known], cols[known])),
            shape=(len(texts), n_words + len(self.char_keys_)),
        )
        matrix.sum_duplicates()
        return matrix

    def _word_columns(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Vocabulary position (-1 when unknown) and row of every token of the texts.

        Raw tokens: stop words are not in the vocabulary, so the lookup drops them. The batch is
        segmented in one call (``segment_joined``) and looked up with one C-level
        ``map(dict.get)``; the line-break tokens between texts give the rows.
        """
        if getattr(self, "_words", None) is None:
            if BREAK in self.vocabulary_:
                raise ValueError("a line break cannot be a vocabulary word")
            self._words = dict(self.vocabulary_, **{BREAK: -2})
        get = self._words.get
        every = segment_joined(texts)
        if every is None:  # texts with line breaks of their own: one text at a time
            tokens = [segment_cached(t) for t in texts]
            lengths = np.fromiter(map(len, tokens), np.int64, len(tokens))
            cols = np.fromiter(map(get, chain.from_iterable(tokens), repeat(-1)), np.int64,
                               int(lengths.sum()))
            return cols, np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        cols = np.fromiter(map(get, every, repeat(-1)), np.int64, len(every))
        breaks = cols == -2
        stops = np.flatnonzero(breaks)
        if len(stops) != max(len(texts) - 1, 0):
            raise RuntimeError("segmenter did not keep line breaks between texts")
        rows = np.cumsum(breaks)
        remember_segments(texts, every, [0, *(stops + 1).tolist()], [*stops.tolist(), len(every)])
        keep = ~breaks
        return cols[keep], rows[keep]

    def _char_columns(self, keys: np.ndarray) -> np.ndarray:
        """Vocabulary position of each character key, -1 when unknown.

        Single characters go through a dense table indexed by code point; bigrams through an
        open-addressing hash table probed for the whole batch at once. Both are built on first
        use, not pickled. (A binary search over the vocabulary cost 4x more.)
        """
        if getattr(self, "_lookup", None) is None:
            self._lookup = _CharLookup(self.char_keys_)
        lookup: _CharLookup = self._lookup
        return lookup.columns(keys)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for derived in _DERIVED:  # rebuilt on first use; keeps the artefact small
            state.pop(derived, None)
        return state

    def transform(self, texts: Iterable[str]) -> csr_matrix:
        """Sublinear tf × idf, rows L2-normalised (what ``TfidfTransformer`` computes, without
        its per-call validation, which cost as much as the arithmetic on small batches)."""
        check_is_fitted(self, "tfidf_")
        matrix = self.counts(list(texts))
        data = matrix.data
        if self.sublinear_tf:
            np.log(data, out=data)
            data += 1
        idf: np.ndarray | None = getattr(self, "_idf", None)
        if idf is None or idf.dtype != data.dtype:
            idf = self._idf = self.tfidf_.idf_.astype(data.dtype)  # once, not per batch
        data *= idf[matrix.indices]
        squares = np.add.reduceat(data * data, matrix.indptr[:-1]) if data.size else np.zeros(0)
        lengths = np.diff(matrix.indptr)
        norms = np.sqrt(np.where(lengths > 0, squares[: len(lengths)] if data.size else 0, 1.0))
        data /= np.repeat(norms, lengths).astype(data.dtype)
        return matrix

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "tfidf_")
        words = sorted(self.vocabulary_, key=self.vocabulary_.__getitem__)
        return np.array(words + [key_name(int(k)) for k in self.char_keys_], dtype=object)


_EMPTY = np.uint64(0xFFFFFFFFFFFFFFFF)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


class _CharLookup:
    """Key → vocabulary column for character keys: a dense table for single characters and a
    linear-probing hash table (load ≤ 0.25) for bigrams."""

    def __init__(self, vocab: np.ndarray) -> None:
        n_single = int(np.searchsorted(vocab, 1 << _SHIFT))
        size = int(vocab[n_single - 1]) + 1 if n_single else 1
        self.single = np.full(size, -1, dtype=np.int64)
        self.single[vocab[:n_single]] = np.arange(n_single)
        bigrams = vocab[n_single:].astype(np.uint64)
        self.bits = max(4, int(np.ceil(np.log2(max(len(bigrams), 1) * 4))))
        self.keys = np.full(1 << self.bits, _EMPTY, dtype=np.uint64)
        self.values = np.full(1 << self.bits, -1, dtype=np.int64)
        mask = (1 << self.bits) - 1
        for column, (key, slot) in enumerate(zip(bigrams.tolist(), self._slots(bigrams).tolist())):
            while self.keys[slot] != _EMPTY:
                slot = (slot + 1) & mask
            self.keys[slot] = key
            self.values[slot] = n_single + column

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        # Fibonacci hashing; uint64 arrays wrap on overflow, which is what we want here.
        return ((keys * _GOLDEN) >> np.uint64(64 - self.bits)).astype(np.int64)

    def columns(self, keys: np.ndarray) -> np.ndarray:
        result = np.full(len(keys), -1, dtype=np.int64)
        single = keys < (1 << _SHIFT)
        codes = keys[single]
        inside = codes < len(self.single)
        found = np.full(len(codes), -1, dtype=np.int64)
        found[inside] = self.single[codes[inside]]
        result[single] = found
        pending = np.flatnonzero(~single)
        wanted = keys[pending].astype(np.uint64)
        slots = self._slots(wanted)
        mask = (1 << self.bits) - 1
        while pending.size:
            stored = self.keys[slots]
            hit = stored == wanted
            result[pending[hit]] = self.values[slots[hit]]
            again = ~hit & (stored != _EMPTY)  # occupied by another key: probe the next slot
            pending, wanted, slots = pending[again], wanted[again], (slots[again] + 1) & mask
        return result
