"""Fetching the dataset archive: from the DVC cache, a local path, or HTTP(S) with resume.

The file appears at its destination only once its md5 matches; until then it lives in a
hidden `.part` file beside it, which a later run resumes (HTTP Range) and a mismatch deletes.
"""

import http.client
import os
import shutil
import socket
import sys
import time
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlparse
from urllib.request import Request, url2pathname, urlopen

from tqdm import tqdm

from lib.stage import StageError
from lib.store import md5_of

CHUNK = 1 << 20
MAX_BYTES = 1 << 30
USER_AGENT = "cnn-feature-extraction/0.1 (+dvc pipeline)"
RETRIABLE_HTTP = {408, 425, 429, 500, 502, 503, 504}
MAX_ATTEMPTS = 100


class DownloadError(StageError):
    """The archive could not be fetched or failed its checksum."""

    def __init__(self, message, resumable=False):
        super().__init__(message)
        self.resumable = resumable


def local_path(url):
    """The filesystem path a file:// URL or plain path names, or None for a remote URL."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return Path(url2pathname(parsed.path))
    if parsed.scheme in ("http", "https"):
        return None
    return Path(url).expanduser()


def part_path(out, md5):
    """Where the archive is assembled: hidden, beside `out`, named by its checksum."""
    return out.with_name(f".{out.name}.{md5}.part")


def progress(total, initial, label):
    tty = sys.stderr.isatty()
    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024,
                desc=label, file=sys.stderr, mininterval=0.5 if tty else 15, ascii=not tty)


def fetch(url, md5, out, *, cache_dirs=(), retries=5, retry_wait=1.0, timeout=30.0,
          max_bytes=MAX_BYTES, say=lambda line: None):
    """Put the file at `url` whose md5 is `md5` at `out`; return where it came from. `say` hears
    why a download is retried."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(out, md5)
    origin = from_cache(md5, part, cache_dirs)
    if origin is None:
        path = local_path(url)
        try:
            if path is None:
                download(url, part, retries=retries, retry_wait=retry_wait, timeout=timeout, say=say,
                         max_bytes=max_bytes)
            else:
                copy(path, part, max_bytes)
        except DownloadError as error:
            if not error.resumable:
                part.unlink(missing_ok=True)
            raise
        origin = url if path is None else str(path)
    actual = md5_of(part)
    if actual != md5:
        part.unlink()
        raise DownloadError(f"checksum mismatch for {url}: expected md5 {md5}, got {actual}; "
                            "nothing was kept (if the source is a mirror, set data.md5 to its checksum)")
    os.replace(part, out)
    return origin


def from_cache(md5, part, cache_dirs):
    """Copy the file from a DVC cache (content-addressed by md5) if one holds it intact."""
    for cache in cache_dirs:
        cached = Path(cache) / md5[:2] / md5[2:]
        if cached.is_file() and md5_of(cached) == md5:
            shutil.copyfile(cached, part)
            return f"DVC cache {cached}"
    return None


def copy(path, part, max_bytes):
    if not path.is_file():
        raise DownloadError(f"no such file: {path}")
    size = path.stat().st_size
    if size > max_bytes:
        raise DownloadError(f"{path} is {size} bytes, more than the {max_bytes} an archive may have")
    with open(path, "rb") as source, open(part, "wb") as target, progress(size, 0, path.name) as bar:
        while chunk := source.read(CHUNK):
            target.write(chunk)
            bar.update(len(chunk))


def download(url, part, *, retries, retry_wait, timeout, max_bytes, say=lambda line: None):
    """Stream `url` into `part`, resuming from its current length after each failure."""
    failures = 0
    for attempt in range(1, MAX_ATTEMPTS + 1):
        have = size_of(part)
        try:
            if stream(url, part, have, timeout, max_bytes):
                return
            reason = f"connection closed at byte {size_of(part)}"
        except HTTPError as error:
            if error.code == 416 and have:
                return  # the part is already whole; the checksum decides
            if error.code not in RETRIABLE_HTTP:
                raise DownloadError(f"{url}: HTTP {error.code} {error.reason}") from error
            reason = f"HTTP {error.code} {error.reason}"
        except URLError as error:
            if isinstance(error.reason, socket.gaierror):
                raise DownloadError(f"{url}: cannot resolve host {urlparse(url).hostname!r} "
                                    f"({error.reason.strerror}); offline? see README, offline / mirror",
                                    resumable=True) from error
            reason = str(error.reason)
        except (OSError, http.client.HTTPException) as error:
            reason = f"{type(error).__name__}: {error}"
        failures = 0 if size_of(part) > have else failures + 1
        if failures > retries:
            raise DownloadError(f"{url}: giving up after {failures} failed attempts in a row ({reason}); "
                                "run again to resume", resumable=True)
        if attempt == MAX_ATTEMPTS:
            raise DownloadError(f"{url}: giving up after {attempt} attempts ({reason}); run again to resume",
                                resumable=True)
        say(f"download: {reason}; retrying from byte {size_of(part)}")
        time.sleep(retry_wait * 2 ** max(failures - 1, 0))


def size_of(path):
    return path.stat().st_size if path.exists() else 0


def stream(url, part, have, timeout, max_bytes):
    """One attempt: append the rest of `url` to `part`; True when the response was complete."""
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
    with urlopen(Request(url, headers=headers), timeout=timeout) as response:
        if response.headers.get_content_type() == "text/html":
            raise DownloadError(f"{url} served an HTML page, not an archive (a login or error page?)")
        resumed = response.status == 206 and content_range_start(response) == have
        if response.status == 206 and not resumed:
            part.unlink(missing_ok=True)
            return False  # a range we did not ask for: start again from byte 0
        start = have if resumed else 0
        length = response.headers.get("Content-Length")
        total = start + int(length) if length and length.isdigit() else None
        if total is not None and total > max_bytes:
            raise DownloadError(f"{url} is {total} bytes, more than the {max_bytes} an archive may have")
        written = start
        with open(part, "ab" if resumed else "wb") as file, \
                progress(total, start, Path(urlparse(url).path).name) as bar:
            while chunk := response.read(CHUNK):
                written += len(chunk)
                if written > max_bytes:
                    raise DownloadError(f"{url} sent more than the {max_bytes} bytes an archive may have")
                file.write(chunk)
                bar.update(len(chunk))
        return total is None or written >= total


def content_range_start(response):
    """The first byte of a 206 response's Content-Range, or None."""
    value = response.headers.get("Content-Range", "")
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def dvc_caches():
    """The DVC cache folders that may already hold the archive (none outside a DVC repo)."""
    try:
        from dvc.exceptions import DvcException
        from dvc.repo import Repo
    except ImportError:
        return []
    try:
        with Repo() as repo:
            return [repo.cache.local.path]
    except DvcException:
        return []
