"""Evidence is the page as served on 127.0.0.1, or an uploaded file; anything less than a
complete answer of a sane size is refused in one line."""

from __future__ import annotations

import gzip
import hashlib
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from responses.evidence import EvidenceError, fetch, from_file
from tests.crawler import loopback

PAGE = ("<html><head><meta charset='gbk'><title>情况通报</title></head><body><p>市司法局"
        "就网传监狱服刑人员非正常死亡一事通报如下。</p></body></html>").encode("gbk")


@pytest.fixture
def server() -> Iterator[loopback.Server]:
    site = loopback.start({"/ok.html": loopback.static(PAGE),
                           "/gone.html": loopback.status(404),
                           "/broken.html": loopback.status(500),
                           "/empty.html": loopback.static(b"  \n"),
                           "/moved.html": loopback.redirect("/ok.html"),
                           "/half.html": loopback.truncated(PAGE * 50),
                           "/slow.html": loopback.stalled(1.5)})
    yield site
    site.shutdown()
    site.server_close()


def test_the_page_is_kept_as_received_with_its_sha256(server: loopback.Server) -> None:
    evidence = fetch(f"{server.base}/moved.html")
    assert evidence.content == PAGE  # bytes as served, GBK left alone
    assert evidence.sha256 == hashlib.sha256(PAGE).hexdigest()
    assert gzip.decompress(evidence.snapshot) == PAGE and evidence.source == "fetched"


@pytest.mark.parametrize(("path", "message"), [
    ("/gone.html", "HTTP 404"), ("/broken.html", "HTTP 500"), ("/empty.html", "为空"),
    ("/half.html", "无法取得"),
])
def test_an_incomplete_or_failed_answer_is_refused_in_one_line(
        server: loopback.Server, path: str, message: str) -> None:
    with pytest.raises(EvidenceError, match=message) as refused:
        fetch(f"{server.base}{path}")
    assert "\n" not in str(refused.value)


def test_a_page_over_the_size_limit_is_refused(server: loopback.Server) -> None:
    with pytest.raises(EvidenceError, match="过大"):
        fetch(f"{server.base}/ok.html", max_bytes=len(PAGE) - 1)
    assert fetch(f"{server.base}/ok.html", max_bytes=len(PAGE)).content == PAGE


def test_a_server_that_does_not_answer_in_time_is_refused(server: loopback.Server) -> None:
    with pytest.raises(EvidenceError, match="无法取得.*timed out"):
        fetch(f"{server.base}/slow.html", timeout=0.3)


def test_a_closed_port_is_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(EvidenceError, match="无法取得.*127.0.0.1"):
        fetch(f"http://127.0.0.1:{port}/statement.html")


def test_an_uploaded_file_is_evidence_and_an_empty_or_missing_one_is_refused(
        tmp_path: Path) -> None:
    saved = tmp_path / "通报.html"
    saved.write_bytes(PAGE)
    evidence = from_file(saved)
    assert (evidence.content, evidence.source) == (PAGE, "file")
    (tmp_path / "empty.pdf").write_bytes(b"")
    with pytest.raises(EvidenceError, match="为空"):
        from_file(tmp_path / "empty.pdf")
    with pytest.raises(EvidenceError, match="无法读取"):
        from_file(tmp_path / "missing.pdf")
    with pytest.raises(EvidenceError, match="过大"):
        from_file(saved, max_bytes=10)
