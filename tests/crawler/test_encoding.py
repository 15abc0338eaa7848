"""Page decoding: every shared page, under its own declaration and none, plus the classic traps."""

from __future__ import annotations

import codecs
import html
import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.encoding import DecodedPage, codec_for_label, decode_html, declared_charsets
from tests.shared_data import require_shared, shared_data_dir

TAG = re.compile(r"<[^>]*>")
SPACE = re.compile(r"\s+")  # str patterns: also \u3000 and \xa0


def visible(text: str) -> str:
    """Tags dropped, entities resolved, all whitespace removed: comparable with the manifest."""
    return SPACE.sub("", html.unescape(TAG.sub("", text)))


def family(encoding: str) -> str:
    return "gb18030" if encoding.startswith("gb") else encoding


def manifest_pages() -> list[dict[str, Any]]:
    """Manifest entries, read at collection; a placeholder when the shared data is absent."""
    base = shared_data_dir()
    manifest = base / "pages" / "manifest.json" if base is not None else None
    if manifest is None or not manifest.exists():
        return [{"file": "shared-data-absent"}]  # the test itself skips via require_shared
    pages: list[dict[str, Any]] = json.loads(manifest.read_text(encoding="utf-8"))["pages"]
    return pages


PAGES = manifest_pages()


def test_the_manifest_lists_all_eighty_pages() -> None:
    require_shared("pages", "manifest.json")
    assert len(PAGES) == 80


@pytest.mark.parametrize("use_header", [True, False], ids=["declared-as-header", "no-header"])
@pytest.mark.parametrize("page", PAGES, ids=[page["file"] for page in PAGES])
def test_it_decodes_each_shared_page_to_its_real_encoding(
    page: dict[str, Any], use_header: bool
) -> None:
    require_shared("pages", "manifest.json")
    path = require_shared("pages", page["file"])
    header = page["declared_charset"] if use_header else None
    decoded = decode_html(path.read_bytes(), header)
    assert family(decoded.encoding) == family(page["actual_encoding"].split()[0])
    expected = page["expected"] or {}
    text = visible(decoded.text)
    if expected.get("title"):
        assert visible(expected["title"]) in text
    if expected.get("content_first_line"):
        assert visible(expected["content_first_line"])[:10] in text


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("gne_people_1.html", "sniffed"),  # says GB2312, bytes are UTF-8
        ("traf_he_xinhuanet_25340717_archive.html", "meta"),  # header utf-8 wrong, meta right
        ("cwce_b4c2eccd.html", "sniffed"),  # no declaration, GBK
        ("cwce_0d931936.html", "header"),  # the declared gb2312 is right
    ],
)
def test_it_reports_where_the_decision_came_from(name: str, source: str) -> None:
    # Skip (with the reason) before looking the page up: without the shared data the manifest
    # list is a placeholder, and a failed lookup would be an error, not a skip.
    require_shared("pages", "manifest.json")
    body = require_shared("pages", name).read_bytes()
    page = next((entry for entry in PAGES if entry["file"] == name), None)
    assert page is not None, f"{name} is not in the shared manifest"
    assert decode_html(body, page["declared_charset"]).source == source


# --- small cases ----------------------------------------------------------------------------

NOTICE = (
    "<html><head><title>市司法局关于法律援助的通知</title></head>"
    "<body><p>人民调解、社区矫正工作安排。</p></body></html>"
)


def with_meta(charset: str, body_text: str = NOTICE) -> str:
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'
    return body_text.replace("<head>", "<head>" + meta)


TITLE = "市司法局关于法律援助的通知"
BIG5_NOTICE = with_meta("big5", "<html><head><title>市司法局關於法律援助的通知</title></head></html>")


@pytest.mark.parametrize(
    ("body", "header", "encoding", "source", "must_contain"),
    [
        (NOTICE.encode("gbk"), "utf-8", "gb18030", "sniffed", TITLE),  # header lies: body is GBK
        (NOTICE.encode("gbk"), "text/html; charset=GBK", "gb18030", "header", TITLE),
        (NOTICE.encode("gbk"), "ISO-8859-1", "gb18030", "sniffed", TITLE),  # a server default
        (NOTICE.encode("gbk"), None, "gb18030", "sniffed", TITLE),  # no declaration at all
        (NOTICE.encode("utf-8"), None, "utf-8", "sniffed", TITLE),
        (NOTICE.encode("utf-8"), "gb2312", "utf-8", "sniffed", TITLE),  # re-saved as UTF-8
        (with_meta("gb2312").encode("gb18030"), None, "gb18030", "meta", TITLE),
        (with_meta("gb2312").encode("utf-8"), None, "utf-8", "sniffed", TITLE),
        (with_meta("utf-8").encode("gbk"), None, "gb18030", "sniffed", TITLE),
        (b'<meta charset="x-gbk">' + NOTICE.encode("gbk"), None, "gb18030", "meta", TITLE),
        (BIG5_NOTICE.encode("big5"), None, "big5", "meta", "市司法局關於法律援助的通知"),
        (codecs.BOM_UTF8 + NOTICE.encode("utf-8"), "gbk", "utf-8", "bom", TITLE),  # BOM wins
        (codecs.BOM_UTF16_LE + NOTICE.encode("utf-16-le"), None, "utf-16-le", "bom", TITLE),
        ("<p>café</p>".encode("cp1252"), "iso-8859-1", "cp1252", "header", "café"),  # real latin-1
        (b"<html>plain ascii</html>", None, "utf-8", "sniffed", "plain ascii"),
        (b"<html>plain ascii</html>", "no-such-charset", "utf-8", "sniffed", "plain ascii"),
        (b"<html>plain ascii</html>", "base64", "utf-8", "sniffed", "plain ascii"),  # not text
    ],
)
def test_it_checks_declarations_against_the_bytes(
    body: bytes, header: str | None, encoding: str, source: str, must_contain: str
) -> None:
    decoded = decode_html(body, header)
    assert (decoded.encoding, decoded.source) == (encoding, source)
    assert must_contain in decoded.text
    assert "\ufffd" not in decoded.text


def test_it_keeps_a_declared_utf8_page_with_one_broken_byte() -> None:
    body = with_meta("utf-8").encode("utf-8").replace("社区".encode(), "社区".encode()[:-1], 1)
    decoded = decode_html(body, None)
    assert (decoded.encoding, decoded.source) == ("utf-8", "meta")
    assert "市司法局关于法律援助的通知" in decoded.text


def test_it_falls_back_when_nothing_decodes_cleanly() -> None:
    body = bytes(range(128, 256)) * 8
    decoded = decode_html(body, "utf-8")
    assert decoded.source == "fallback"
    assert decoded.encoding in ("utf-8", "gb18030")


def test_gb_labels_decode_with_gb18030_to_keep_characters_outside_gb2312() -> None:
    # 镕 and 喆 are not in GB2312, yet pages labelled gb2312 use them (GBK/GB18030 bytes).
    body = with_meta("gb2312", NOTICE.replace("通知", "通知 朱镕基 张喆")).encode("gb18030")
    decoded = decode_html(body, None)
    assert "朱镕基 张喆" in decoded.text
    assert codec_for_label("GB2312") == codec_for_label("GBK") == codec_for_label("gb18030")


def test_it_finds_both_meta_forms_and_the_xml_declaration() -> None:
    head = b'<?xml version="1.0" encoding="GBK"?><meta charset=\'utf-8\'><script charset="big5">'
    assert declared_charsets(head + with_meta("gb2312").encode()) == ["GBK", "utf-8", "gb2312"]


@given(text=st.text())
def test_any_utf8_text_without_a_declaration_comes_back_unchanged(text: str) -> None:
    decoded = decode_html(text.encode("utf-8"), None)
    assert decoded.text == text.removeprefix("\ufeff")


@given(body=st.binary(), header=st.one_of(st.none(), st.text(max_size=20)))
def test_it_never_raises_on_any_bytes_and_label(body: bytes, header: str | None) -> None:
    decoded = decode_html(body, header)
    assert isinstance(decoded, DecodedPage)
    assert decoded.source in ("header", "meta", "sniffed", "bom", "fallback")
