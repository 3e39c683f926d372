"""Shared fixtures: an isolated environment, tiny models trained through the real CLI, MIDI writers.

Tests that need the tiny models (trained once per session, about ten seconds on two cores) are
marked ``training`` automatically; ``pytest -m "not training"`` runs the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import (
    TINY_DUETS,
    TINY_LM,
    TINY_MELODY,
    TINY_NOTES,
    TINY_RL,
    TINY_SEQ2SEQ_ARGS,
    TINY_VARIANTS,
    TINY_VRASH,
    melody_of_length,
    write_melody,
)

TRAINING_FIXTURES = {"tiny_training", "tiny_models", "tiny_runs", "use_tiny_models"}


def pytest_configure(config):
    config.addinivalue_line("markers", "training: needs the tiny models trained once per session (tiny_models)")
    config.addinivalue_line("markers", "shipped: checks the models shipped in accompanist/assets/models")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if TRAINING_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.training)


@pytest.fixture(scope="session", autouse=True)
def isolated_env(tmp_path_factory):
    """A fresh cache folder, an empty user models folder, presets folder and config for the whole
    session, so no test depends on (or writes to) the developer's cache, models, presets, panel
    set-up or SoundFont choice."""
    root = tmp_path_factory.mktemp("env")
    (root / "cache").mkdir()
    (root / "no-user-models").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ACCOMPANIST_CACHE", str(root / "cache"))
        mp.setenv("ACCOMPANIST_MODELS", str(root / "no-user-models"))
        mp.delenv("ACCOMPANIST_SOUNDFONT", raising=False)
        mp.setenv("ACCOMPANIST_PRESETS", str(root / "presets"))  # a musician's own presets
        mp.setenv("ACCOMPANIST_SESSIONS", str(root / "sessions"))  # sessions recorded without --record
        mp.setenv("ACCOMPANIST_CONFIG", str(root / "config"))  # the panel's remembered set-up
        yield root


@dataclass(frozen=True)
class Tiny:
    models: Path
    runs: dict[str, Path]


@pytest.fixture(scope="session")
def tiny_training(tmp_path_factory, isolated_env) -> Tiny:
    """Train and export two tiny seq2seq models, three tiny duet models and a tiny melody model
    through the real command-line code path."""
    from accompanist.cli import main

    root = tmp_path_factory.mktemp("tiny")
    models = root / "models"
    runs: dict[str, Path] = {}
    for name, (variant, pair) in TINY_VARIANTS.items():
        run = root / "runs" / name
        args = ["--name", name, "--variant", variant, "--pair", pair, "--epochs", "1", "--out", str(run)]
        assert main(["train", "seq2seq", *args, *TINY_SEQ2SEQ_ARGS]) == 0
        assert main(["export", str(run), "--dest", str(models)]) == 0
        runs[name] = run
    for name, variant in TINY_DUETS.items():
        run = root / "runs" / name
        args = ["train", "duet", "--name", name, "--variant", variant, "--limit", "6", "--epochs", "1"]
        args += ["--sizes", "16,8,16,16", "--chunk", "32", "--repeats", "1", "--transpose", "0:2"]
        assert main([*args, "--out", str(run), "--threads", "1"]) == 0
        assert main(["export", str(run), "--dest", str(models)]) == 0
        runs[name] = run
    run = root / "runs" / TINY_MELODY
    args = ["train", "melody", "--name", TINY_MELODY, "--data", "chorales", "--limit", "12", "--epochs", "2"]
    args += ["--hidden", "16", "--dense", "16", "--val-fraction", "0.2", "--test-fraction", "0.2"]
    assert main([*args, "--out", str(run), "--threads", "1"]) == 0
    assert main(["export", str(run), "--dest", str(models)]) == 0
    runs[TINY_MELODY] = run
    small = ["--data", "chorales", "--limit", "12", "--epochs", "2", "--val-fraction", "0.2", "--test-fraction", "0.2"]
    for name, family, extra in (
        (TINY_VRASH, "vrash", ["--hidden", "16", "--encoder", "8", "--anneal-steps", "2"]),
        (TINY_LM, "vrash", ["--hidden", "16", "--latent", "0"]),
        (TINY_NOTES, "note-rnn", ["--hidden", "16"]),
    ):
        run = root / "runs" / name
        assert main(["train", family, "--name", name, *small, *extra, "--out", str(run), "--threads", "1"]) == 0
        assert main(["export", str(run), "--dest", str(models)]) == 0
        runs[name] = run
    run = root / "runs" / TINY_RL
    tune = ["--note-rnn", str(runs[TINY_NOTES]), "--steps", "4096", "--eval-compositions", "64", "--parallel", "32"]
    assert main(["train", "rl", "--name", TINY_RL, *tune, "--out", str(run), "--threads", "1"]) == 0
    assert main(["export", str(run), "--dest", str(models)]) == 0
    runs[TINY_RL] = run
    return Tiny(models, runs)


@pytest.fixture(scope="session")
def tiny_models(tiny_training) -> Path:
    """The folder holding the exported tiny models (tiny-bi, tiny-uni, tiny-duet, tiny-duet-window)."""
    yield tiny_training.models


@pytest.fixture(scope="session")
def tiny_runs(tiny_training) -> dict[str, Path]:
    """The training run folders of the tiny models, by name."""
    return tiny_training.runs


@pytest.fixture
def use_tiny_models(monkeypatch, tiny_models) -> Path:
    """Point the model search path (and any subprocess) at the tiny models."""
    monkeypatch.setenv("ACCOMPANIST_MODELS", str(tiny_models))
    return tiny_models


@pytest.fixture
def melody_file(tmp_path):
    """Write a melody file: ``melody_file(notes, name="x.mid", **write_melody options)``."""

    def make(notes=None, name: str = "melody.mid", **kw) -> Path:
        notes = notes if notes is not None else melody_of_length(64)
        return write_melody(tmp_path / name, notes, **kw)

    return make


@pytest.fixture(scope="session")
def jack_server(tmp_path_factory):
    """A real JACK server with the dummy driver (no sound card), period 64, under a name of its
    own so a developer's running JACK is never touched; killed at the end of the session."""
    import os
    import shutil
    import subprocess
    import time

    if not shutil.which("jackd"):
        pytest.fail("jackd is not installed: run make test (it installs jackd2)")
    name = f"acc-test-{os.getpid()}"
    log = tmp_path_factory.mktemp("jack") / "jackd.log"
    env = dict(os.environ, JACK_NO_AUDIO_RESERVATION="1", JACK_DEFAULT_SERVER=name, JACK_NO_START_SERVER="1")
    # Realtime scheduling where the system grants it (root, or rtprio in limits.conf): without it
    # a 1.3 ms period on a busy 2-core machine runs late often enough to drop MIDI events.
    proc = None
    for rt in (["-R", "-P", "70"], ["--no-realtime"]):
        with open(log, "w") as out:
            proc = subprocess.Popen(
                ["jackd", "-n", name, *rt, "-d", "dummy", "-r", "48000", "-p", "64"],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        ready = subprocess.run(["jack_wait", "-w", "-t", "10"], capture_output=True, env=env).returncode == 0
        if ready and proc.poll() is None:
            break
        proc.kill()
        proc.wait()
    else:
        pytest.fail(f"jackd did not start: {log.read_text()[-2000:]}")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ACCOMPANIST_TEST_JACK_LOG", str(log))
        mp.setenv("JACK_DEFAULT_SERVER", name)
        mp.setenv("JACK_NO_START_SERVER", "1")
        time.sleep(0.2)
        yield name
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
