import socket

import pytest

import synthetic
from lib import fetch as fetch_module
from lib.fetch import DownloadError, fetch, part_path
from lib.store import md5_of

PATH = "/cifar-10-binary.tar.gz"
FAST = {"retry_wait": 0.01, "timeout": 5}


@pytest.fixture
def payload(server, archive_bytes):
    server.files[PATH] = archive_bytes
    return archive_bytes


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


def test_http_download_verifies_and_leaves_only_the_archive(server, payload, tmp_path):
    out = tmp_path / "raw" / "archive.tar.gz"
    origin = fetch(server.url(PATH), synthetic.md5(payload), out, **FAST)
    assert origin == server.url(PATH)
    assert out.read_bytes() == payload
    assert leftovers(out.parent) == ["archive.tar.gz"]
    assert server.requests == [(PATH, None)]


def test_resumes_with_range_after_connection_dropped_mid_file(server, payload, tmp_path):
    server.drop_after[PATH] = [10_000]
    out = tmp_path / "archive.tar.gz"
    fetch(server.url(PATH), synthetic.md5(payload), out, **FAST)
    assert out.read_bytes() == payload
    assert server.requests == [(PATH, None), (PATH, "bytes=10000-")]


def test_a_connection_that_keeps_dropping_is_abandoned_after_the_attempt_cap(server, payload, tmp_path,
                                                                            monkeypatch):
    monkeypatch.setattr(fetch_module, "MAX_ATTEMPTS", 4)
    server.drop_after[PATH] = [100] * 10
    out = tmp_path / "archive.tar.gz"
    with pytest.raises(DownloadError, match="giving up after 4 attempts .*run again to resume"):
        fetch(server.url(PATH), synthetic.md5(payload), out, **FAST)
    assert not out.exists()
    assert part_path(out, synthetic.md5(payload)).stat().st_size == 400
    server.drop_after[PATH] = []
    fetch(server.url(PATH), synthetic.md5(payload), out, **FAST)
    assert out.read_bytes() == payload


def test_resumes_a_part_left_by_an_earlier_run(server, payload, tmp_path):
    out = tmp_path / "archive.tar.gz"
    md5 = synthetic.md5(payload)
    part_path(out, md5).write_bytes(payload[:5000])
    fetch(server.url(PATH), md5, out, **FAST)
    assert out.read_bytes() == payload
    assert server.requests == [(PATH, "bytes=5000-")]


def test_checksum_mismatch_names_both_and_leaves_nothing(server, payload, tmp_path):
    out = tmp_path / "archive.tar.gz"
    wrong = "0" * 32
    with pytest.raises(DownloadError) as error:
        fetch(server.url(PATH), wrong, out, **FAST)
    assert f"expected md5 {wrong}" in str(error.value)
    assert f"got {synthetic.md5(payload)}" in str(error.value)
    assert leftovers(tmp_path) == []


def test_http_404_fails_at_once_naming_url_and_leaves_nothing(server, tmp_path):
    with pytest.raises(DownloadError, match=r"/missing\.tar\.gz: HTTP 404"):
        fetch(server.url("/missing.tar.gz"), "0" * 32, tmp_path / "a.tar.gz", **FAST)
    assert leftovers(tmp_path) == []
    assert len(server.requests) == 1


def test_server_errors_are_retried_then_succeed(server, payload, tmp_path):
    server.errors[PATH] = [500, 503]
    out = tmp_path / "archive.tar.gz"
    fetch(server.url(PATH), synthetic.md5(payload), out, **FAST)
    assert out.read_bytes() == payload
    assert len(server.requests) == 3


def test_persistent_server_error_gives_up_after_the_retries(server, payload, tmp_path):
    server.errors[PATH] = [500] * 10
    with pytest.raises(DownloadError, match="giving up after 3 failed attempts.*HTTP 500"):
        fetch(server.url(PATH), synthetic.md5(payload), tmp_path / "a.tar.gz", retries=2, **FAST)
    assert len(server.requests) == 3


def test_html_page_instead_of_archive_is_refused(server, tmp_path):
    server.files["/login"] = b"<html><body>Please log in</body></html>"
    server.content_type["/login"] = "text/html"
    with pytest.raises(DownloadError, match="HTML page"):
        fetch(server.url("/login"), "0" * 32, tmp_path / "a.tar.gz", **FAST)
    assert leftovers(tmp_path) == []


def test_refuses_a_file_larger_than_the_bound(server, payload, tmp_path):
    with pytest.raises(DownloadError, match="more than the 1000"):
        fetch(server.url(PATH), synthetic.md5(payload), tmp_path / "a.tar.gz", max_bytes=1000, **FAST)
    assert leftovers(tmp_path) == []


def test_unreachable_port_fails_after_bounded_retries(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DownloadError, match=f"127.0.0.1:{port}.*giving up after 3"):
        fetch(f"http://127.0.0.1:{port}/a.tar.gz", "0" * 32, tmp_path / "a.tar.gz", retries=2, **FAST)
    assert not (tmp_path / "a.tar.gz").exists()


def test_file_url_and_plain_path(tmp_path, archive_file, archive_bytes):
    md5 = synthetic.md5(archive_bytes)
    for source, name in ((archive_file.as_uri(), "a.tar.gz"), (str(archive_file), "b.tar.gz")):
        out = tmp_path / "raw" / name
        assert fetch(source, md5, out) == str(archive_file)
        assert out.read_bytes() == archive_bytes


def test_missing_local_file_is_named(tmp_path):
    with pytest.raises(DownloadError, match="no such file: .*nowhere.tar.gz"):
        fetch(str(tmp_path / "nowhere.tar.gz"), "0" * 32, tmp_path / "a.tar.gz")


def test_a_copy_in_the_dvc_cache_is_used_without_any_request(server, payload, tmp_path):
    md5 = synthetic.md5(payload)
    cache = tmp_path / "cache"
    (cache / md5[:2]).mkdir(parents=True)
    (cache / md5[:2] / md5[2:]).write_bytes(payload)
    out = tmp_path / "raw" / "archive.tar.gz"
    origin = fetch(server.url(PATH), md5, out, cache_dirs=[cache], **FAST)
    assert origin.startswith("DVC cache")
    assert out.read_bytes() == payload
    assert server.requests == []


def test_a_corrupt_cache_entry_is_ignored(server, payload, tmp_path):
    md5 = synthetic.md5(payload)
    cache = tmp_path / "cache"
    (cache / md5[:2]).mkdir(parents=True)
    (cache / md5[:2] / md5[2:]).write_bytes(b"rotten")
    out = tmp_path / "archive.tar.gz"
    assert fetch(server.url(PATH), md5, out, cache_dirs=[cache], **FAST) == server.url(PATH)
    assert md5_of(out) == md5
