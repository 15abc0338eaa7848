"""Evidence that a response was published: the page behind its URL (or an uploaded file), kept
as a gzip snapshot with the SHA-256 of the bytes as received.

``fetch`` is the only network access of the responses package: it reads the bureau's own page,
with a timeout and a size limit, and fails with one line (``EvidenceError``) on anything but a
complete 2xx answer, so a clock is never closed on a page nobody could read.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FETCH_TIMEOUT = 15.0  # seconds, connect and each read
MAX_BYTES = 10 * 1024 * 1024  # a statement page, its images not included
USER_AGENT = "yuqing-evidence/0.1 (publication evidence)"


class EvidenceError(ValueError):
    """The evidence could not be taken; the message is one line."""


@dataclass(frozen=True)
class Evidence:
    content: bytes
    source: str  # fetched / file / crawl
    document_id: int | None = None  # the crawled document, for ``crawl``

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def snapshot(self) -> bytes:
        return gzip.compress(self.content, mtime=0)


Fetcher = Callable[[str], Evidence]


def fetch(url: str, *, timeout: float = FETCH_TIMEOUT, max_bytes: int = MAX_BYTES) -> Evidence:
    """The page at ``url`` as received; ``EvidenceError`` on a failure, an error status, an
    empty body or one larger than ``max_bytes``."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            body = _read(answer, max_bytes + 1)
            announced = answer.headers.get("Content-Length", "")
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the connection
        raise EvidenceError(f"发布页面无法取得 / {url[:120]}: HTTP {exc.code}") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise EvidenceError(f"发布页面无法取得 / {url[:120]}: {type(exc).__name__}: "
                            f"{str(reason).splitlines()[0] if str(reason) else ''}") from None
    if announced.isdigit() and len(body) < int(announced):  # the server closed early
        raise EvidenceError(f"发布页面无法取得 / {url[:120]}: incomplete answer ({len(body)} of "
                            f"{announced} bytes)")
    if len(body) > max_bytes:
        raise EvidenceError(f"发布页面过大 / {url[:120]}: more than {max_bytes} bytes")
    if not body.strip():
        raise EvidenceError(f"发布页面为空 / {url[:120]}: empty answer")
    return Evidence(body, "fetched")


def _read(answer: Any, limit: int) -> bytes:
    # One read may return less than asked on a socket; stop at the end or past the limit.
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk: bytes = answer.read(min(65536, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def from_file(path: Path, *, max_bytes: int = MAX_BYTES) -> Evidence:
    """An uploaded copy of the publication (a saved page, a PDF, a screenshot)."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise EvidenceError(f"{path}: 留证文件过大 / more than {max_bytes} bytes")
        content = path.read_bytes()
    except OSError as exc:
        raise EvidenceError(f"{path}: 无法读取留证文件 / cannot read: "
                            f"{exc.strerror or type(exc).__name__}") from None
    if not content:
        raise EvidenceError(f"{path}: 留证文件为空 / empty file")
    return Evidence(content, "file")
