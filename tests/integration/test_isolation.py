"""Workspace isolation on the real platform: the tests run as root, so `labworks up` turns
isolation on and every workspace runs as its own system account. Two users, Ana and Ben (whose
name has a dot, so his account name carries a hash), each start a server and a kernel."""

from __future__ import annotations

import http.client
import json
import os
import pwd
import time
from pathlib import Path

import httpx
import psutil
import pytest

from labworks_hub.isolation import SystemAccounts
from tests.kernel_client import run_code
from tests.platform import wait_for_lab

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0, reason="isolation needs a hub running as root"),
    pytest.mark.usefixtures("isolated"),
]

ANA, BEN = "iso-ana", "iso.ben"


class Workspace:
    """One user's running server: its account, pid, port, and a kernel to run code in."""

    def __init__(self, platform, name: str) -> None:
        self.platform, self.name = platform, name
        self.token = platform.token(name)
        self.headers = {"Authorization": f"token {self.token}"}
        self.home = platform.home / "users" / name

    def start(self) -> Workspace:
        url = f"{self.platform.url}/hub/api/users/{self.name}/server"
        reply = httpx.post(url, headers=self.headers, timeout=60)
        assert reply.status_code in (201, 202), reply.text
        wait_for_lab(self.platform.url, self.name, self.token)
        kernel = httpx.post(self.url("api/kernels"), headers=self.headers, timeout=60)
        assert kernel.status_code == 201, kernel.text
        self.kernel = self.url(f"api/kernels/{kernel.json()['id']}/channels")
        return self

    def stop(self) -> None:
        url = f"{self.platform.url}/hub/api/users/{self.name}/server"
        httpx.delete(url, headers=self.headers, timeout=120)
        deadline = time.monotonic() + 60
        while httpx.get(f"{self.platform.url}/hub/api/users/{self.name}",
                        headers=self.headers).json()["servers"]:  # fmt: skip
            assert time.monotonic() < deadline, f"server of {self.name} did not stop"
            time.sleep(0.1)

    @property
    def account(self) -> pwd.struct_passwd:
        """Made by the hub at the first start."""
        return pwd.getpwnam(SystemAccounts().name_for(self.name))

    def url(self, path: str) -> str:
        return f"{self.platform.url}/user/{self.name}/{path}"

    def run(self, code: str) -> str:
        return run_code(self.kernel.replace("http://", "ws://"), self.token, code)

    @property
    def server_pid(self) -> int:
        admin = {"Authorization": f"token {self.platform.token('admin')}"}
        user = httpx.get(f"{self.platform.url}/hub/api/users/{self.name}", headers=admin).json()
        return user["servers"][""]["state"]["pid"]

    def processes(self) -> list[psutil.Process]:
        return [
            p for p in psutil.process_iter(["uids"]) if p.info["uids"].real == self.account.pw_uid
        ]


def status_ids(pid: int) -> dict[str, list[int]]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = dict(line.split(":", 1) for line in lines)
    return {k: [int(v) for v in fields[k].split()] for k in ("Uid", "Gid", "Groups")}


@pytest.fixture(scope="module")
def pair(platform):
    for name in (ANA, BEN):
        platform.add_user(name)
    ana, ben = Workspace(platform, ANA).start(), Workspace(platform, BEN).start()
    yield ana, ben
    for ws in (ana, ben):
        ws.stop()
        deadline = time.monotonic() + 30
        while ws.processes():  # the hub and the server end their kernels; nothing is left
            assert time.monotonic() < deadline, ws.processes()
            time.sleep(0.1)


def test_up_announces_isolation(platform):
    log = platform.log()
    assert "isolation on: per-user system accounts; cgroup v2 limits: " in log
    assert "isolation OFF" not in log


def test_accounts_are_system_accounts_in_their_group(pair):
    ana, ben = pair
    assert ana.account.pw_name == "lw-iso-ana"
    assert ben.account.pw_name.startswith("lw-isoben-") and len(ben.account.pw_name) == 20
    for ws in pair:
        assert ws.account.pw_shell == "/usr/sbin/nologin"
        assert ws.account.pw_gecos == f"labworks user {ws.name}"
    assert ana.account.pw_uid != ben.account.pw_uid
    assert ana.account.pw_gid == ben.account.pw_gid


def test_servers_and_kernels_run_as_their_accounts(pair):
    for ws in pair:
        uid, gid = ws.account.pw_uid, ws.account.pw_gid
        ids = status_ids(ws.server_pid)
        assert ids == {"Uid": [uid] * 4, "Gid": [gid] * 4, "Groups": [gid]}
        printed = ws.run(
            "import os, json; print(json.dumps([os.getuid(), os.geteuid(), os.getgid(),"
            " os.getgroups(), os.getppid(), os.environ['USER'], os.environ['HOME'], os.getcwd()]))"
        )
        assert json.loads(printed) == [
            uid, uid, gid, [gid], ws.server_pid, ws.account.pw_name, str(ws.home), str(ws.home),
        ]  # fmt: skip
        assert "--ServerApp.allow_root=True" not in " ".join(
            psutil.Process(ws.server_pid).cmdline()
        )


def test_jupyter_state_lands_in_the_users_home(pair):
    ana, _ = pair
    printed = ana.run(
        "import json, os, stat\n"
        "from jupyter_core.paths import jupyter_config_dir, jupyter_data_dir, jupyter_runtime_dir\n"
        "from ipykernel.connect import get_connection_file\n"
        "open(os.path.expanduser('~/.local/probe.txt'), 'w').write('x')\n"
        "cf = get_connection_file()\n"
        "print(json.dumps([jupyter_config_dir(), jupyter_data_dir(), jupyter_runtime_dir(), cf,"
        " oct(stat.S_IMODE(os.stat(cf).st_mode)), oct(os.umask(0o077))]))"
    )
    config, data, runtime, connection, mode, umask = json.loads(printed)
    home = str(ana.home)
    assert config == f"{home}/.jupyter"
    assert data == f"{home}/.local/share/jupyter"
    assert runtime == f"{home}/.local/share/jupyter/runtime"
    assert connection.startswith(runtime + "/kernel-")
    assert (mode, umask) == ("0o600", "0o77")
    # What the server and kernel wrote belongs to Ana and nobody else may enter her home.
    info = ana.home.stat()
    assert (info.st_uid, info.st_mode & 0o777) == (ana.account.pw_uid, 0o700)
    server_files = list(Path(runtime).glob("jpserver-*.json"))
    assert server_files and all(p.stat().st_uid == ana.account.pw_uid for p in server_files)
    assert (ana.home / ".local" / "probe.txt").stat().st_uid == ana.account.pw_uid


def test_another_users_files_and_the_state_dir_are_out_of_reach(platform, pair):
    ana, ben = pair
    saved = httpx.put(ana.url("api/contents/diary.txt"), headers=ana.headers, timeout=30,
                      json={"type": "file", "format": "text", "content": "ana only"})  # fmt: skip
    assert saved.status_code == 201, saved.text
    root, pid = platform.home, ana.server_pid
    store = root / "platform" / "labworks.sqlite"
    attempts = {
        "list Ana's home": f"os.listdir({str(ana.home)!r})",
        "read Ana's file": f"open({str(ana.home / 'diary.txt')!r}).read()",
        "list the homes": f"os.listdir({str(root / 'users')!r})",
        "list the state dir": f"os.listdir({str(root)!r})",
        "read the cookie secret": f"open({str(root / 'secrets' / 'cookie_secret')!r}).read()",
        "read the proxy token": f"open({str(root / 'secrets' / 'proxy_token')!r}).read()",
        "read the hub database": f"open({str(root / 'jupyterhub.sqlite')!r}, 'rb').read(16)",
        "read the platform store": f"open({str(store)!r}, 'rb').read(16)",
        "read the settings": f"open({str(root / 'labworks.json')!r}).read()",
        "read the hub config": f"open({str(root / 'jupyterhub_config.py')!r}).read()",
        "read Ana's server environment": f"open('/proc/{pid}/environ').read()",
        "signal Ana's server": f"os.kill({pid}, 0)",
        "read the platform log": f"open({str(platform.log_path)!r}).read()",
    }
    code = (
        "import os, json\nresults = {}\n"
        + "".join(
            f"try:\n    {action}\n    results[{label!r}] = 'allowed'\n"
            f"except PermissionError:\n    results[{label!r}] = 'denied'\n"
            for label, action in attempts.items()
        )
        + "print(json.dumps(results))"
    )
    assert json.loads(ben.run(code)) == dict.fromkeys(attempts, "denied")
    assert "ana only" in ana.run(f"print(open({str(ana.home / 'diary.txt')!r}).read())")


def test_another_users_server_refuses_the_token(pair):
    ana, ben = pair
    through_proxy = httpx.get(ana.url("api/contents/diary.txt"), headers=ben.headers)
    assert through_proxy.status_code in (302, 403), through_proxy.status_code
    assert "ana only" not in through_proxy.text
    # Straight to Ana's server port from Ben's kernel, with Ben's own server token.
    port = next(
        c.laddr.port
        for c in psutil.Process(ana.server_pid).net_connections("tcp")
        if c.status == psutil.CONN_LISTEN
    )
    printed = ben.run(
        "import http.client, os\n"
        f"c = http.client.HTTPConnection('127.0.0.1', {port}, timeout=10)\n"
        f"c.request('GET', '/user/{ANA}/api/contents/diary.txt',"
        " headers={'Authorization': 'token ' + os.environ['JUPYTERHUB_API_TOKEN']})\n"
        "r = c.getresponse(); print(r.status, r.read().decode()[:200])"
    )
    status = int(printed.split()[0])
    assert status in (302, 403), printed
    assert "ana only" not in printed
    assert http.client.responses[status]


def test_files_survive_a_stop_and_start(platform, pair):
    _, ben = pair
    saved = httpx.put(ben.url("api/contents/keep.txt"), headers=ben.headers, timeout=30,
                      json={"type": "file", "format": "text", "content": "still here"})  # fmt: skip
    assert saved.status_code == 201, saved.text
    ben.stop()
    deadline = time.monotonic() + 30
    while ben.processes():
        assert time.monotonic() < deadline, ben.processes()
        time.sleep(0.1)
    ben.start()
    again = httpx.get(ben.url("api/contents/keep.txt"), headers=ben.headers, timeout=30)
    assert again.json()["content"] == "still here"
    assert (ben.home / "keep.txt").stat().st_uid == ben.account.pw_uid
    assert status_ids(ben.server_pid)["Uid"] == [ben.account.pw_uid] * 4
