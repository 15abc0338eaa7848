"""The TF-IDF vectorizer of the classifiers: domain words plus character uni- and bigrams.

Why not ``TfidfVectorizer(analyzer=...)``: it counts with a Python loop over every feature;
a 200-character post has ~520 features (≈400 of them character n-grams) and that loop alone
held classification to ~3,000 posts/s. Here a batch is segmented in one call (remembered
for clustering) and its words looked up with one C-level ``map(dict.get)``; character
n-grams never become Python strings: they are integer keys (code point pairs) computed and
looked up (a dense table, a hash table) for the whole batch at once with numpy, and the count
matrix is grouped by row with a radix sort.
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


def char_grams(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every character (its code point) and every adjacent character pair (its key
    ``(first << 21) | second``), each with its row number, in row order. Spaces are dropped
    first, as in the word features."""
    lengths = np.fromiter(map(len, texts), np.int64, len(texts))
    joined = "".join(texts)
    codes = np.frombuffer(joined.encode("utf-32-le"), np.uint32).astype(np.int64)
    rows = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    if " " in joined:
        solid = codes != 0x20
        codes, rows = codes[solid], rows[solid]
    same_row = np.flatnonzero(rows[:-1] == rows[1:])
    pairs = (codes[same_row] << _SHIFT) | codes[same_row + 1]
    return codes, rows, pairs, rows[same_row]


def char_keys(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Integer keys of every character and adjacent character pair, with their row numbers.

    Unigram keys are code points (< 2**21); bigram keys are >= 2**21, so the two never clash.
    """
    codes, rows, pairs, pair_rows = char_grams(texts)
    return np.concatenate([codes, pairs]), np.concatenate([rows, pair_rows])


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
        word_cols, word_rows = self._word_columns(texts)
        codes, code_rows, pairs, pair_rows = char_grams(texts)
        lookup = self._char_lookup()
        cols = np.concatenate([word_cols, lookup.single_columns(codes), lookup.pair_columns(pairs)])
        rows = np.concatenate([word_rows, code_rows, pair_rows])
        known = np.flatnonzero(cols >= 0)
        cols, rows = cols[known], rows[known]
        # Grouped by row (a stable sort keeps each part's order; rows fit 16 bits in a batch,
        # where numpy sorts by radix), then duplicates summed into counts.
        by_row = np.argsort(rows.astype(np.int16) if len(texts) < 1 << 15 else rows, kind="stable")
        index = np.int32 if len(cols) < 1 << 31 else np.int64
        indptr = np.zeros(len(texts) + 1, dtype=index)
        np.cumsum(np.bincount(rows, minlength=len(texts)), out=indptr[1:])
        matrix = csr_matrix(
            (np.ones(len(cols), dtype=np.float32), cols[by_row].astype(index), indptr),
            shape=(len(texts), len(self.vocabulary_) + len(self.char_keys_)),
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

    def _char_lookup(self) -> _CharLookup:
        """Single characters go through a dense table indexed by code point; bigrams through
        an open-addressing hash table probed for the whole batch at once. Both are built on
        first use, not pickled. (A binary search over the vocabulary cost 4x more.)"""
        lookup: _CharLookup | None = getattr(self, "_lookup", None)
        if lookup is None:
            lookup = self._lookup = _CharLookup(self.char_keys_, len(self.vocabulary_))
        return lookup

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
    """Key → matrix column (``offset`` + vocabulary position; -1 when unknown) for character
    keys: a dense table for single characters and a linear-probing hash table (load ≤ 0.25)
    for bigrams."""

    def __init__(self, vocab: np.ndarray, offset: int = 0) -> None:
        n_single = int(np.searchsorted(vocab, 1 << _SHIFT))
        size = int(vocab[n_single - 1]) + 1 if n_single else 0
        # One slot past the last known code point stays -1: larger code points are clipped to it.
        self.single = np.full(size + 1, -1, dtype=np.int64)
        self.single[vocab[:n_single]] = offset + np.arange(n_single)
        bigrams = vocab[n_single:].astype(np.uint64)
        self.bits = max(4, int(np.ceil(np.log2(max(len(bigrams), 1) * 4))))
        self.keys = np.full(1 << self.bits, _EMPTY, dtype=np.uint64)
        self.values = np.full(1 << self.bits, -1, dtype=np.int64)
        mask = (1 << self.bits) - 1
        for column, (key, slot) in enumerate(zip(bigrams.tolist(), self._slots(bigrams).tolist())):
            while self.keys[slot] != _EMPTY:
                slot = (slot + 1) & mask
            self.keys[slot] = key
            self.values[slot] = offset + n_single + column

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        # Fibonacci hashing; uint64 arrays wrap on overflow, which is what we want here.
        return ((keys * _GOLDEN) >> np.uint64(64 - self.bits)).astype(np.int64)

    def single_columns(self, codes: np.ndarray) -> np.ndarray:
        result: np.ndarray = self.single[np.minimum(codes, len(self.single) - 1)]
        return result

    def pair_columns(self, pairs: np.ndarray) -> np.ndarray:
        wanted = pairs.astype(np.uint64)
        slots = self._slots(wanted)
        stored = self.keys[slots]
        hit = stored == wanted
        result = np.where(hit, self.values[slots], -1)
        # Slots held by another key: probe the next slot, for those keys only.
        pending = np.flatnonzero(~hit & (stored != _EMPTY))
        wanted, slots = wanted[pending], slots[pending]
        mask = (1 << self.bits) - 1
        while pending.size:
            slots = (slots + 1) & mask
            stored = self.keys[slots]
            hit = stored == wanted
            result[pending[hit]] = self.values[slots[hit]]
            again = ~hit & (stored != _EMPTY)
            pending, wanted, slots = pending[again], wanted[again], slots[again]
        return result
