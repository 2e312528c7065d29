"""`ptui --host`: the same protocol through a real OpenSSH server on 127.0.0.1.

The setup installs Debian's openssh-server when it is missing (CI runs as root),
starts `sshd -D` on a free high port with a throwaway host key and one authorized
throwaway client key, and an ssh config that points at it. sshd's `SetEnv` gives
the remote side this test's PATH (so `ptui` resolves to the venv's) and XDG
dirs, so "remote" and local commands reach the same server.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.conftest import Runner, ptui_json, wait_for
from tui.client.connection import Client
from tui.protocol.states import LIVE

SSHD = "/usr/sbin/sshd"


def ensure_sshd() -> None:
    if os.path.exists(SSHD):
        return
    if os.getuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("openssh-server is not installed and cannot be installed here")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, capture_output=True)
    done = subprocess.run(
        ["apt-get", "install", "-y", "-qq", "openssh-server"], env=env, capture_output=True
    )
    if done.returncode != 0 or not os.path.exists(SSHD):
        pytest.skip(f"cannot install openssh-server: {done.stderr.decode()[-200:]}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def ssh_config(tmp_path: Path, server: None) -> Iterator[Path]:
    """A running sshd and an ssh config file whose host `box` reaches it."""
    ensure_sshd()
    keys = tmp_path / "ssh"
    keys.mkdir(mode=0o700)
    for name in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(keys / name)],
                       check=True)  # fmt: skip
    shutil.copy(keys / "client_key.pub", keys / "authorized_keys")
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
    port = free_port()
    remote_env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        **{k: v for k, v in os.environ.items()
           if k.startswith("XDG_") or k.startswith("GIT_CONFIG") or k == "PYTHONPATH"},
    }  # fmt: skip
    set_env = " ".join(f"{k}={v}" for k, v in remote_env.items())
    (keys / "sshd_config").write_text(
        f"ListenAddress 127.0.0.1\nHostKey {keys / 'host_key'}\nPidFile {keys / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {keys / 'authorized_keys'}\nStrictModes no\nUsePAM no\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\nPrintMotd no\n"
        f"SetEnv {set_env}\n"
    )
    sshd = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(keys / "sshd_config"), "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    config = keys / "ssh_config"
    config.write_text(
        f"Host box\n  HostName 127.0.0.1\n  Port {port}\n  User {os.environ.get('USER', 'root')}\n"
        f"  IdentityFile {keys / 'client_key'}\n  IdentitiesOnly yes\n"
        "  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n"
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or sshd.poll() is not None:
                sshd.kill()
                raise AssertionError(f"sshd did not start: {sshd.communicate()[1]!r}") from None
            time.sleep(0.05)
    yield config
    sshd.send_signal(signal.SIGTERM)
    sshd.wait(timeout=10)


def test_host_lists_and_drives_sessions_over_ssh(
    ptui: Runner, repo: Path, ssh_config: Path
) -> None:
    remote = ["--host", "box", "--ssh-config", str(ssh_config)]
    [made] = ptui_json(ptui, *remote, "new", "over ssh", "--agent", "counter", "--repo", str(repo))
    assert made["id"] == "over-ssh"
    # Local and remote see the same server and the same session.
    assert [s["id"] for s in ptui_json(ptui, "ls")] == ["over-ssh"]
    listed = ptui_json(ptui, *remote, "ls")
    assert listed[0]["worktree"] == made["worktree"]
    wait_for(lambda: "tick 5" in ptui(*remote, "show", "over").stdout)

    # The ssh command line can also come from PTUI_SSH.
    env = {**os.environ, "PTUI_SSH": f"ssh -F {ssh_config}"}
    assert "over-ssh" in ptui("--host", "box", "ls", env=env).stdout

    # A streaming client over ssh, then its ssh process killed outright.
    client = Client("box", ssh_config=str(ssh_config))
    client.call("session.attach", id="over-ssh", cols=60, rows=20)
    event = client.next_event(timeout=10)
    assert event is not None and event["data"]["full"]
    ssh_pids = [
        int(p) for p in subprocess.run(["pgrep", "-f", "--", f"-F {ssh_config}"],
                                       capture_output=True, text=True).stdout.split()
    ]  # fmt: skip
    assert ssh_pids
    for pid in ssh_pids:
        os.kill(pid, signal.SIGKILL)
    client.close()
    before = ptui("show", "over").stdout
    time.sleep(0.5)
    after = ptui("show", "over").stdout
    assert before != after  # still counting
    assert ptui_json(ptui, "ls")[0]["status"] in LIVE
    ptui(*remote, "stop", "over")
    assert ptui_json(ptui, "ls")[0]["status"] == "stopped"


def test_bad_host_is_a_one_line_error(ptui: Runner, repo: Path, ssh_config: Path) -> None:
    result = ptui("--host", "nosuchhost.invalid", "--ssh-config", str(ssh_config), "ls",
                  check=False)  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("ptui: error:")
    usage = ptui("--ssh-config", str(ssh_config), "ls", check=False)
    assert usage.returncode == 2 and "--ssh-config needs --host" in usage.stderr
