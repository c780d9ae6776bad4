"""Shared fixtures: a synthetic CIFAR archive and a local HTTP server that can misbehave on purpose."""

import copy
import fcntl
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

import synthetic

ROOT = Path(__file__).resolve().parents[1]
ARCHIVE_NAME = "cifar-10-binary.tar.gz"


class Server:
    """Serves `files` (path -> bytes) on 127.0.0.1 with HTTP Range; faults are set per path."""

    def __init__(self):
        self.files = {}
        self.errors = {}  # path -> list of status codes to answer first, one per request
        self.drop_after = {}  # path -> list of byte counts after which responses are cut, one per request
        self.content_type = {}
        self.requests = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append((self.path, self.headers.get("Range")))
                if server.errors.get(self.path):
                    self.send_error(server.errors[self.path].pop(0))
                    return
                if self.path not in server.files:
                    self.send_error(404)
                    return
                data = server.files[self.path]
                start = 0
                wanted = self.headers.get("Range", "")
                if wanted.startswith("bytes=") and wanted.endswith("-"):
                    start = int(wanted[len("bytes="):-1])
                    if start >= len(data):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Type", server.content_type.get(self.path, "application/gzip"))
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                cuts = server.drop_after.get(self.path)
                cut = cuts.pop(0) if cuts else None
                self.wfile.write(data[start:] if cut is None else data[start:start + cut])
                if cut is not None:
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


@pytest.fixture
def server():
    server = Server()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture(scope="session")
def archive_bytes():
    return synthetic.archive()


@pytest.fixture
def archive_file(tmp_path, archive_bytes):
    path = tmp_path / ARCHIVE_NAME
    path.write_bytes(archive_bytes)
    return path


def default_params():
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def small_params(url, md5):
    """The repo's params with sizes that fit the synthetic archive (300 train, 100 test)."""
    params = default_params()
    params["data"].update(url=url, md5=md5)
    params["split"]["val_size"] = 40
    params["models"] = {"dummy": {"train_size": 50}, "benchmark": {"train_size": 299}}
    params["analysis"].update(probe_size=20, resamples=100)
    params["ablation"]["orders"] = 2
    params["explore"]["probe_images"] = 12
    params["channels"]["tally"] = 20
    params["features"]["steps"] = 8
    params["attribution"].update(steps=16, max_steps=64)
    params["train"].update(max_epochs=2, batch_size=50, precision="float32",  # the same numerics on every CPU
                           threads=1)  # two trainings side by side run as one after the other
    return params


class Project:
    """A copy of the pipeline in a fresh git + DVC repository under a temporary folder."""

    def __init__(self, path):
        self.path = path
        for name in ("stages", "dvc.yaml", "data", "metrics", "plots", "images", "imported", ".gitignore"):
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, path / name, ignore=shutil.ignore_patterns(
                    "__pycache__", "*.npz", "raw", "subsets", "*.json", "published"))
            elif source.exists():
                shutil.copy(source, path / name)
        self.run("git", "init", "-q")
        self.run("git", "config", "user.email", "test@example.com")
        self.run("git", "config", "user.name", "test")
        self.dvc("init", "-q")
        self.dvc("config", "core.analytics", "false")
        shutil.copytree(ROOT / ".dvc" / "plots", path / ".dvc" / "plots")
        for name in ("config", "offline.html"):
            shutil.copy(ROOT / ".dvc" / name, path / ".dvc" / name)

    @classmethod
    def copy_of(cls, source, path):
        """A copy of another project, its git history, DVC cache, run cache and outputs included."""
        shutil.copytree(source.path, path, symlinks=True)
        project = cls.__new__(cls)
        project.path, project.params = path, copy.deepcopy(source.params)
        project.first = getattr(source, "first", None)
        return project

    def write_params(self, params):
        (self.path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    def run(self, *args, check=True, columns=None):
        env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(self.path),
               "DVC_NO_ANALYTICS": "1", "GIT_TERMINAL_PROMPT": "0", **({"COLUMNS": str(columns)} if columns else {})}
        result = subprocess.run(args, cwd=self.path, env=env, capture_output=True, text=True, timeout=600)
        if check and result.returncode:
            raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def dvc(self, *args, check=True, columns=None):
        return self.run(sys.executable, "-m", "dvc", *args, check=check, columns=columns)

    def commit(self, message):
        self.run("git", "add", "-A")
        self.run("git", "commit", "-q", "-m", message)


@pytest.fixture
def project(tmp_path):
    return Project(tmp_path / "project")


class BaselineBuild(threading.Thread):
    """Builds the baseline (see `baseline`) beside the tests that run meanwhile; the first of the
    pytest run's processes to take the file lock builds it, the others find it built."""

    def __init__(self, folder):
        super().__init__(name="baseline")
        self.folder, self.project, self.error = folder, None, None

    def run(self):
        try:
            with open(self.folder / "baseline.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                self.project = built_baseline(self.folder / "baseline", synthetic.archive())
        except BaseException as error:  # noqa: BLE001 - handed to the tests that need the baseline
            self.error = error


@pytest.hookimpl(trylast=True)  # after -m and -k have deselected what they leave out
def pytest_collection_modifyitems(config, items):
    """Where any test needs the baseline, start building it as soon as the tests are known, and run
    the tests that need it last, the longest of them first: the others run meanwhile instead of
    waiting for it, and the run does not end on one worker alone with a long test."""
    items.sort(key=lambda item: ("baseline" in item.fixturenames, item.get_closest_marker("long") is None))
    if any("baseline" in item.fixturenames for item in items) and not config.option.collectonly:
        base = config._tmp_path_factory.getbasetemp()
        config.baseline_build = BaselineBuild(base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base)
        config.baseline_build.start()


def pytest_sessionfinish(session):
    build = getattr(session.config, "baseline_build", None)
    if build is not None:
        build.join()


@pytest.fixture(scope="session")
def baseline(pytestconfig):
    """The small pipeline after one whole `dvc repro`, committed with its dvc.lock: built once per pytest
    run for every worker (one folder for all of them), never changed afterwards. Its first run's
    output is `baseline.first`; a test that changes anything works on `reproduced`, a copy."""
    build = pytestconfig.baseline_build
    build.join()
    if build.error is not None:
        raise build.error
    return build.project


def built_baseline(path, archive_bytes):
    """The baseline at `path`, built there first if no earlier caller did (a failed build leaves nothing)."""
    logs = path.with_name("baseline.stdout"), path.with_name("baseline.stderr")
    if not path.exists():
        building = path.with_name("baseline.building")
        shutil.rmtree(building, ignore_errors=True)
        server = Server()
        server.thread.start()
        try:
            server.files[f"/{ARCHIVE_NAME}"] = archive_bytes
            project = Project(building)
            project.params = small_params(server.url(f"/{ARCHIVE_NAME}"), synthetic.md5(archive_bytes))
            project.write_params(project.params)
            project.commit("pipeline")
            first = project.dvc("repro")
            project.commit("results")
        finally:
            server.httpd.shutdown()
            server.httpd.server_close()
        logs[0].write_text(first.stdout)
        logs[1].write_text(first.stderr)
        building.rename(path)
    project = Project.__new__(Project)
    project.path, project.params = path, yaml.safe_load((path / "params.yaml").read_text())
    project.first = subprocess.CompletedProcess(["dvc", "repro"], 0, *(log.read_text() for log in logs))
    return project


@pytest.fixture
def reproduced(baseline, tmp_path):
    """A project of its own after the whole small pipeline ran: a copy of the baseline."""
    return Project.copy_of(baseline, tmp_path / "project")
