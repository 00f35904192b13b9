from __future__ import annotations

import stat

import pytest

from labworks_hub.home import HomeError, LabworksHome


def test_resolve_prefers_argument_then_env(tmp_path, monkeypatch):
    monkeypatch.setenv("LABWORKS_HOME", str(tmp_path / "env"))
    assert LabworksHome.resolve(tmp_path / "arg").root == tmp_path / "arg"
    assert LabworksHome.resolve().root == tmp_path / "env"
    monkeypatch.delenv("LABWORKS_HOME")
    monkeypatch.chdir(tmp_path)
    assert LabworksHome.resolve().root == tmp_path / ".labworks"


def test_settings_roundtrip_and_db_url(tmp_path):
    home = LabworksHome(tmp_path).ensure()
    assert home.db_url() == f"sqlite:///{tmp_path / 'platform' / 'labworks.sqlite'}"
    home.save_settings({"db_url": "postgresql://u@h/db"})
    assert home.db_url() == "postgresql://u@h/db"
    assert (tmp_path / "labworks.json").stat().st_mode & 0o077 == 0


def test_home_can_be_entered_but_its_contents_are_private(tmp_path):
    """Workspaces running as system accounts pass through the root and users/ (0711) to their
    homes; nothing else in the root is readable by them, also in a home from an older version."""
    root = tmp_path / "lw"
    root.mkdir()
    for name in ("jupyterhub.sqlite", "labworks.sqlite-journal", "proxy.pid", "labworks.json"):
        (root / name).write_text("")
        (root / name).chmod(0o644)
    (root / "notes.txt").write_text("")  # not Labworks': left as it is
    (root / "notes.txt").chmod(0o644)
    outside = tmp_path / "outside"
    outside.write_text("x")
    outside.chmod(0o644)
    (root / "jupyterhub.pid").symlink_to(outside)
    home = LabworksHome(root).ensure()
    modes = {p.name: stat.S_IMODE(p.lstat().st_mode) for p in root.iterdir() if not p.is_symlink()}
    assert modes == {
        "secrets": 0o700,
        "users": 0o711,
        "jobs": 0o711,
        "platform": 0o700,
        "jupyterhub.sqlite": 0o600,
        "labworks.sqlite-journal": 0o600,
        "proxy.pid": 0o600,
        "labworks.json": 0o600,
        "notes.txt": 0o644,
    }
    assert stat.S_IMODE(root.stat().st_mode) == 0o711
    assert home.secret_file("cookie_secret").stat().st_mode & 0o077 == 0
    assert stat.S_IMODE(outside.stat().st_mode) == 0o644  # links are not followed


def test_corrupt_settings_are_a_clear_error(tmp_path):
    home = LabworksHome(tmp_path).ensure()
    (tmp_path / "labworks.json").write_text("{not json")
    with pytest.raises(HomeError, match="cannot read"):
        home.load_settings()


def test_unusable_home_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(HomeError, match="is not writable"):
        LabworksHome(blocker / "home").ensure()
