"""The state directory (`--home`, `$LABWORKS_HOME`, else `./.labworks`): settings, secrets,
databases and per-user workspaces. A second `labworks up` on the same home reuses it all."""

from __future__ import annotations

import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

SETTINGS_FILE = "labworks.json"
PORTS_KEY = "internal_ports"  # in labworks.json: the ports `labworks up` chose, by role
STORE_FILE = "labworks.sqlite"  # the platform store, when no --db-url is given
MLFLOW_FILES = ("mlflow.sqlite", "mlflow-auth.sqlite")  # TrackingServer's SQLite defaults


class HomeError(Exception):
    """The state directory cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class LabworksHome:
    root: Path

    @classmethod
    def resolve(cls, home: str | os.PathLike | None = None) -> LabworksHome:
        raw = home or os.environ.get("LABWORKS_HOME") or ".labworks"
        return cls(Path(raw).expanduser().resolve())

    @property
    def hub_config(self) -> Path:
        return self.root / "jupyterhub_config.py"

    @property
    def local_config(self) -> Path:
        """Operator overrides, loaded after the generated config; never rewritten."""
        return self.root / "jupyterhub_config.local.py"

    @property
    def hub_db_url(self) -> str:
        return f"sqlite:///{self.root / 'jupyterhub.sqlite'}"

    @property
    def default_db_url(self) -> str:
        return f"sqlite:///{self.platform_dir / STORE_FILE}"

    @property
    def platform_dir(self) -> Path:
        """The platform service's own folder (its state dir): its databases and anything else
        it writes; its system account's where it has one (isolation.PlatformAccount)."""
        return self.root / "platform"

    @property
    def runs_dir(self) -> Path:
        """Attempts of local jobs: the job launcher's (labworks_hub.launcher)."""
        return self.root / "jobs" / "runs"

    @property
    def artifacts_dir(self) -> Path:
        """Job outputs and MLflow artifacts (the default c.ArtifactStore.url): the platform's."""
        return self.root / "jobs" / "artifacts"

    def platform_paths(self) -> list[Path]:
        """The folders the platform service writes in (given to its account at every start)."""
        return [self.platform_dir, self.artifacts_dir]

    def move_platform_files(self, settings: dict) -> list[str]:
        """Move the databases a version before platform/ kept in the root into it (and the
        saved store URL with them); the names of what moved."""
        old_store = f"sqlite:///{self.root / STORE_FILE}"
        names = list(MLFLOW_FILES)
        if settings.get("db_url", old_store) == old_store:
            names.append(STORE_FILE)
        moved = []
        for name in names:
            if (self.root / name).is_file() and not (self.platform_dir / name).exists():
                for suffix in ("", "-wal", "-shm", "-journal"):
                    if (self.root / (name + suffix)).is_file():
                        os.replace(self.root / (name + suffix), self.platform_dir / (name + suffix))
                moved.append(name)
        if STORE_FILE in moved:
            settings["db_url"] = self.default_db_url
        return moved

    @property
    def lock_file(self) -> Path:
        """Held (flock) by the running `labworks up`; holds its pid (supervisor.py)."""
        return self.root / "labworks.lock"

    @property
    def process_record(self) -> Path:
        """The processes the running hub started: role, pid, start time (supervisor.py)."""
        return self.root / "processes.json"

    @property
    def proxy_pid_file(self) -> Path:
        return self.root / "proxy.pid"

    @property
    def workspaces(self) -> Path:
        return self.root / "users"

    @property
    def secrets_dir(self) -> Path:
        return self.root / "secrets"

    def ensure(self) -> LabworksHome:
        """Create the directory tree or raise HomeError.

        Workspaces running as other system accounts must pass through the root and `users/`
        to reach their homes, so both are 0711 (enter, not list); what Labworks keeps in the
        root (secrets/, databases, settings, config) is made private to this OS user, also in
        a home from an older version. `labworks up` runs with umask 077 for what it adds."""
        try:
            for path in (self.root, self.secrets_dir, self.workspaces, self.platform_dir):
                path.mkdir(parents=True, exist_ok=True)
            self.runs_dir.parent.mkdir(exist_ok=True)  # jobs/: the launcher's, its runs/
            for path in (self.root, self.workspaces, self.runs_dir.parent):
                path.chmod(0o711)
            for entry in self.private_entries():
                info = entry.lstat()
                if not stat.S_ISLNK(info.st_mode):
                    entry.chmod(stat.S_IMODE(info.st_mode) & 0o700)
            probe = self.root / ".write-test"
            probe.write_text("ok")
            probe.unlink()
        except OSError as e:
            raise HomeError(
                f"state directory {self.root} is not writable ({e.strerror or e});"
                " choose another with --home or LABWORKS_HOME"
            ) from None
        return self

    def private_entries(self) -> list[Path]:
        """What Labworks keeps in the root that only this OS user may read."""
        names = [SETTINGS_FILE, self.hub_config.name, self.local_config.name, "secrets",
                 self.lock_file.name, self.process_record.name, self.platform_dir.name]  # fmt: skip
        found = [self.root / n for n in names if (self.root / n).exists()]
        return found + sorted({*self.root.glob("*.sqlite*"), *self.root.glob("*.pid")})

    def exists(self) -> bool:
        return (self.root / SETTINGS_FILE).is_file()

    def secret(self, name: str, nbytes: int = 32) -> str:
        """A hex secret created on first use and kept (mode 0600) across restarts."""
        path = self.secrets_dir / name
        if path.is_file():
            return path.read_text().strip()
        value = secrets.token_hex(nbytes)
        self.secrets_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(value)
        return value

    def secret_file(self, name: str, nbytes: int = 32) -> Path:
        self.secret(name, nbytes)
        return self.secrets_dir / name

    def load_settings(self) -> dict:
        path = self.root / SETTINGS_FILE
        if not path.is_file():
            return {}
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise HomeError(f"cannot read {path}: {e}") from None

    def save_settings(self, settings: dict) -> None:
        path = self.root / SETTINGS_FILE
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(settings, f, indent=2, sort_keys=True)

    def db_url(self) -> str:
        """The platform store URL: the one saved by `up --db-url`, else SQLite in the home."""
        return self.load_settings().get("db_url") or self.default_db_url
