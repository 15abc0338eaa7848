"""Turn a page's bytes into text, trusting charset declarations only as far as the bytes agree.

Order of trust: a byte-order mark, then the HTTP header's charset, then ``<meta>`` (both
``<meta charset>`` and ``http-equiv`` Content-Type) or an XML declaration, then sniffing. A
declaration is checked, not obeyed: Chinese pages are often re-saved as UTF-8 while still saying
``gb2312``, servers default to ``ISO-8859-1`` in front of GBK pages, and archive wrappers add their
own labels. A label is rejected when its decode fails beyond a small tolerance, or when the bytes
are plainly UTF-8 (UTF-8 is self-validating: GBK text of any length almost never passes a strict
UTF-8 decode, while UTF-8 bytes often pass a GB18030 decode as mojibake).

Every GB2312/GBK label decodes with GB18030, its superset, so characters outside GB2312 that real
sites use anyway (e.g. 镕, 喆) survive.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Literal

Source = Literal["header", "meta", "sniffed", "bom", "fallback"]

UTF8 = "utf-8"
GB18030 = "gb18030"

# How far into the page ``<meta>`` is looked for. WHATWG prescans 1024 bytes, but Chinese portals
# put long scripts and comments first and archive wrappers push the page's own head further down.
META_SCAN_BYTES = 16 * 1024

# A declared or sniffed codec may leave this share of the non-ASCII bytes undecodable (truncated
# bodies and one broken byte from a CMS are common; decoding a shared page with the wrong one of
# UTF-8/GB18030 fails 1.7% to 67% of its non-ASCII bytes). At least one error is always allowed.
MAX_ERROR_SHARE = 0.005

# <meta charset="gbk">, <meta http-equiv="Content-Type" content="text/html; charset=gbk">, and
# <?xml version="1.0" encoding="gbk"?>. Bytes pattern: the document is not decoded yet.
META_CHARSET = re.compile(
    rb"""<meta\s[^>]*?charset\s*=\s*["']?\s*(?P<meta>[A-Za-z0-9_.:-]+)"""
    rb"""|<\?xml\s[^>]*?encoding\s*=\s*["']\s*(?P<xml>[A-Za-z0-9_.:-]+)""",
    re.IGNORECASE,
)

# charset=... inside a full Content-Type header value, should a caller pass the whole header.
HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.IGNORECASE)

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, UTF8),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: its BOM starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Labels Python's codec registry does not know, as browsers read them (WHATWG Encoding).
_LABEL_ALIASES = {
    "x-gbk": "gbk", "windows-936": "gbk", "ms936": "gbk", "x-cp936": "gbk", "csgb2312": "gb2312",
    "gb_2312-80": "gb2312", "chinese": "gb2312", "iso-ir-58": "gb2312", "x-euc-cn": "gb2312",
    "unicode-1-1-utf-8": "utf-8", "x-unicode20utf8": "utf-8",
}  # fmt: skip
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "hz"}
# Browsers read latin-1 and ASCII labels as windows-1252.
_SINGLE_BYTE_WESTERN = {"cp1252", "latin_1", "iso8859-1", "ascii"}
_ASCII = bytes(range(128))
# Four high bytes that every multi-byte CJK codec reads as fewer than four characters.
_HIGH_PROBE = b"\xc4\xe3\xba\xc3"
# Codecs Python has but no page is written in; utf-7 is refused by browsers (WHATWG) since it
# hides markup from filters.
_NOT_PAGE_CODECS = {"idna", "punycode", "unicode-escape", "raw-unicode-escape", "utf-7"}


@dataclass(frozen=True)
class DecodedPage:
    """Decoded page text, the codec used (a Python codec name) and where the choice came from."""

    text: str
    encoding: str
    source: Source


def decode_html(body: bytes, header_charset: str | None) -> DecodedPage:
    """Decode an HTML body; never raises.

    ``header_charset`` is the HTTP header's charset (or the whole Content-Type value), if any.
    When no declaration survives checking, the bytes are sniffed (UTF-8, then GB18030); when
    nothing decodes cleanly the least-damaged decode is returned with source ``fallback``.
    """
    bom_page = _decode_bom(body)
    if bom_page is not None:
        return bom_page
    trial = _Trial(body)
    for label, source in _declarations(body, header_charset):
        codec = codec_for_label(label)
        if codec is not None and trial.accepts(codec):
            return DecodedPage(trial.decode(codec)[0], codec, source)
    return _sniff(trial)


def codec_for_label(label: str) -> str | None:
    """Python codec name for a charset label (GB labels → gb18030); None if unknown."""
    cleaned = label.strip().strip("\"'").lower()
    try:
        name = codecs.lookup(_LABEL_ALIASES.get(cleaned, cleaned)).name
        # Refuses bytes-to-bytes codecs (base64, zlib) and text codecs that raise even with
        # errors="replace" (punycode); an empty probe would pass them all.
        _HIGH_PROBE.decode(name, errors="replace")
    except (LookupError, UnicodeError, ValueError):
        return None
    if name in _NOT_PAGE_CODECS:
        return None
    if name in _GB_FAMILY:
        return GB18030
    if name.startswith(("utf-16", "utf-32", "utf_16", "utf_32")) or name == "utf-8":
        # An ASCII-readable label cannot describe UTF-16 bytes (WHATWG reads it as UTF-8); real
        # UTF-16 pages carry a BOM, handled before any label.
        return UTF8
    if name in _SINGLE_BYTE_WESTERN:
        return "cp1252"
    return name


def declared_charsets(body: bytes) -> list[str]:
    """Charset labels from ``<meta>`` / the XML declaration in the first ``META_SCAN_BYTES``."""
    head = body[:META_SCAN_BYTES]
    labels = []
    for match in META_CHARSET.finditer(head):
        raw = match["meta"] or match["xml"]
        labels.append(raw.decode("ascii", errors="replace"))
    return labels


def _declarations(body: bytes, header_charset: str | None) -> list[tuple[str, Source]]:
    found: list[tuple[str, Source]] = []
    if header_charset:
        in_header = HEADER_CHARSET.search(header_charset)
        found.append((in_header.group(1) if in_header else header_charset, "header"))
    found.extend((label, "meta") for label in declared_charsets(body))
    return found


def _decode_bom(body: bytes) -> DecodedPage | None:
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return DecodedPage(body[len(bom) :].decode(codec, errors="replace"), codec, "bom")
    return None


def _sniff(trial: _Trial) -> DecodedPage:
    """No usable declaration: UTF-8 if it decodes, else GB18030, else the less damaged of both."""
    if trial.non_ascii == 0:
        return DecodedPage(trial.decode(UTF8)[0], UTF8, "sniffed")
    for codec in (UTF8, GB18030):
        if trial.accepts(codec):
            return DecodedPage(trial.decode(codec)[0], codec, "sniffed")
    best = min((UTF8, GB18030), key=lambda codec: trial.decode(codec)[1])
    return DecodedPage(trial.decode(best)[0], best, "fallback")


class _Trial:
    """Decodes one body with several codecs, each at most once, and judges the results."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.non_ascii = len(body.translate(None, _ASCII))
        self._results: dict[str, tuple[str, int]] = {}

    def decode(self, codec: str) -> tuple[str, int]:
        """Text (errors replaced) and the number of undecodable sequences."""
        if codec not in self._results:
            self._results[codec] = _decode_counting(self.body, codec)
        return self._results[codec]

    def accepts(self, codec: str) -> bool:
        """Whether ``codec`` reads these bytes: few errors, and no clear sign of another codec."""
        if self.non_ascii == 0:
            return True  # pure ASCII reads the same in every ASCII-compatible codec
        errors = self.decode(codec)[1]
        if errors > max(1.0, self.non_ascii * MAX_ERROR_SHARE):
            return False
        rival = GB18030 if codec == UTF8 else UTF8
        if codec == UTF8:
            # A damaged UTF-8 page still has far fewer errors than its GB18030 reading.
            return errors == 0 or errors < self.decode(rival)[1]
        rival_errors = self.decode(rival)[1]
        if rival_errors == 0 or rival_errors < errors:
            return False  # the bytes are UTF-8 whatever the label says
        if _is_single_byte(codec):
            # Single-byte codecs "decode" almost anything; GB-valid bytes under such a label
            # (typically a server's ISO-8859-1 default) are GB text.
            return self.decode(GB18030)[1] > errors or not self.accepts(GB18030)
        return True


def _decode_counting(body: bytes, codec: str) -> tuple[str, int]:
    try:
        return body.decode(codec), 0
    except UnicodeError:
        pass
    try:
        text = body.decode(codec, errors="replace")
    except UnicodeError:
        # Odd text codecs (idna, punycode) raise even with errors="replace": unusable here.
        return body.decode(UTF8, errors="replace"), len(body) + 1
    # Counts a genuine U+FFFD in the page as an error too; harmless at the tolerance used.
    return text, text.count("\ufffd")


def _is_single_byte(codec: str) -> bool:
    return len(_HIGH_PROBE.decode(codec, errors="replace")) == len(_HIGH_PROBE)
