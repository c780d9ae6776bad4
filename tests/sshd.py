"""A real SSH server on 127.0.0.1 for the remote tests: Debian's OpenSSH `sshd`, with a host key,
a user key and a store folder of its own, started for one test and stopped after it."""

import getpass
import os
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import pytest

SSHD = Path("/usr/sbin/sshd")
PRIVILEGE_SEPARATION = Path("/run/sshd")  # sshd refuses to start without this (empty) folder


class SshRemote(NamedTuple):
    """Where DVC reaches the server: `url` (ssh://user@127.0.0.1:port/store), the user's key, the
    store's folder and the port."""

    url: str
    keyfile: Path
    store: Path
    port: int


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def unavailable(reason):
    message = f"{reason}: `apt-get install openssh-server` (.ci/run installs it)"
    if os.environ.get("REQUIRE_SSHD"):
        pytest.fail(message)
    pytest.skip(message)


def keys(folder):
    for name in ("host_key", "user_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / name)], check=True)
    (folder / "authorized_keys").write_text((folder / "user_key.pub").read_text())
    (folder / "authorized_keys").chmod(0o600)


def config(folder, port):
    lines = [f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {folder / 'host_key'}",
             f"AuthorizedKeysFile {folder / 'authorized_keys'}", f"PidFile {folder / 'sshd.pid'}", "StrictModes no",
             "UsePAM no", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
             "PermitRootLogin prohibit-password", "Subsystem sftp internal-sftp"]
    path = folder / "sshd_config"
    path.write_text("\n".join(lines) + "\n")
    return path


def wait_for(port, process, log, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"sshd stopped: {log.read_text()}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"sshd did not listen on 127.0.0.1:{port} within {timeout} s")


@contextmanager
def ssh_server(folder, port=None):
    """An SshRemote served by sshd from `folder` (its keys, config and store, made on first use)
    until the block ends; `port` to serve again where an earlier server of that folder did."""
    if not SSHD.is_file():
        unavailable(f"no OpenSSH server at {SSHD}")
    if not PRIVILEGE_SEPARATION.is_dir():
        if os.geteuid() != 0:
            unavailable(f"no {PRIVILEGE_SEPARATION}, which sshd needs and only root can make")
        PRIVILEGE_SEPARATION.mkdir(mode=0o755)
    store = folder / "store"
    if not folder.exists():
        folder.mkdir(parents=True)
        keys(folder)
        store.mkdir()
    port = port or free_port()
    log = folder / "sshd.log"
    with open(log, "a") as errors:
        process = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config(folder, port))],
                                   stdout=subprocess.DEVNULL, stderr=errors)
    try:
        wait_for(port, process, log)
        yield SshRemote(f"ssh://{getpass.getuser()}@127.0.0.1:{port}{store}", folder / "user_key", store, port)
    finally:
        process.terminate()
        process.wait(timeout=10)
