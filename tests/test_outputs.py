"""Files out: a folder that refuses writes (a read-only mount, which refuses even root) is one
clear line and exit 2 for every verb that writes, and nothing is left behind."""

from __future__ import annotations

import os
import subprocess

import pytest
from helpers import TINY_DUET_LISTEN, assert_clean_error, run_cli, write_melody


@pytest.fixture
def read_only(tmp_path):
    """A real read-only folder: a tmpfs mounted read-only where this machine allows mounts
    (root, as on CI), else a folder without write permission for a user who is not root."""
    folder = tmp_path / "ro"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        if os.geteuid() == 0:
            pytest.skip("root without the right to mount: no folder refuses root's writes here")
        folder.chmod(0o555)
    try:
        yield folder
    finally:
        if mounted.returncode == 0:
            subprocess.run(["umount", str(folder)], check=True)


def test_every_file_verb_says_a_read_only_folder_in_one_line(read_only, tmp_path, tiny_runs):
    src = write_melody(tmp_path / "m.mid", [(60, 4), (62, 4), (64, 8)] * 4)
    for args in (
        ("harmonize", src, "-o", read_only / "x.mid"),
        ("harmonize", src, "-o", tmp_path / "x.mid", "--wav", read_only / "x.wav"),
        ("duet", src, "-o", read_only / "x.mid"),
        ("duet", src, "-o", tmp_path / "y.mid", "--wav", read_only / "y.wav"),
        ("demo", "--out", read_only / "demo"),
        ("export", tiny_runs[TINY_DUET_LISTEN], "--dest", read_only / "models"),
    ):
        proc = run_cli(*args)
        line = assert_clean_error(proc, str(read_only))
        assert "Read-only" in line or "ermission" in line, line
    assert not list(read_only.iterdir())
