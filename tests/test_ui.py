"""The control panel, offscreen with pytest-qt, driving a real engine on real JACK ports; and the
presets it and `accompanist live` read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import mido
import pytest
from helpers import TINY_DUET, assert_clean_error, run_cli
from PyQt6.QtCore import Qt

from accompanist.errors import AccompanistError
from accompanist.live.engine import Settings
from accompanist.live.ports import open_output


def _artifact(tmp_path: Path, name: str) -> Path:
    """Screenshots go where ACCOMPANIST_ARTIFACTS says (CI keeps them), else beside the test."""
    folder = Path(os.environ.get("ACCOMPANIST_ARTIFACTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_the_panel_starts_plays_changes_and_stops_a_real_engine(qtbot, tmp_path):
    from accompanist.ui.panel import Panel

    panel = Panel(
        Settings(model=TINY_DUET, api="jack", record=tmp_path / "s.mid", client_name="panel", seed=0, bpm=240)
    )
    qtbot.addWidget(panel)
    panel.show()
    assert panel.model.currentText() == TINY_DUET and panel.mode.currentText() == "duet"
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "playing" in panel.status.text(), timeout=5000)
    engine = panel.engine
    assert engine is not None and panel.start_button.text() == "Stop" and not panel.inp.isEnabled()
    assert "panel-in:in" in panel.status.text() and "panel-out:out" in panel.status.text()

    player = open_output("virtual", api="jack", client_name="player")
    subprocess.run(["jack_connect", "player-out:out", "panel-in:in"], check=True)
    time.sleep(0.3)
    for i in range(12):
        player.send(mido.Message("note_on", note=60 + i % 5, velocity=90))
        qtbot.wait(60)
        player.send(mido.Message("note_off", note=60 + i % 5))
    qtbot.waitUntil(lambda: panel.steps > 16, timeout=3000)
    qtbot.waitUntil(lambda: "median" in panel.score.timing.text(), timeout=3000)  # the timing meter reads
    meter = panel.score.timing.text()
    assert "missed deadlines" in meter and "output timing error median" in meter and "model median" in meter

    # a slider drag is one change for the engine, sent when the slider is still
    for v in range(100, 151, 10):
        panel.temperature.setValue(v)
        qtbot.wait(20)
    qtbot.waitUntil(lambda: "temperature 1.5" in panel.log.toPlainText(), timeout=2000)  # said by the engine
    assert engine.settings.temperature == 1.5
    assert panel.log.toPlainText().count("temperature 1.5") == 1 and "temperature 1.2" not in panel.log.toPlainText()

    qtbot.mouseClick(panel.panic_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "every note released" in panel.log.toPlainText(), timeout=2000)

    panel.mode.setCurrentText("loop")  # the model list follows the mode, and the engine with it
    qtbot.waitUntil(lambda: engine.settings.mode == "loop", timeout=3000)
    assert engine.card.family == "seq2seq" and panel.model.currentText() == engine.card.name
    qtbot.waitUntil(lambda: f"loop mode, model {engine.card.name}" in panel.status.text(), timeout=2000)
    qtbot.mouseClick(panel.lock_button, Qt.MouseButton.LeftButton)
    assert engine.locked
    qtbot.waitUntil(lambda: "loop locked" in panel.log.toPlainText(), timeout=2000)

    panel.mode.setCurrentText("respond")  # call and response: a melody model, and a button to end a call
    qtbot.waitUntil(lambda: engine.settings.mode == "respond", timeout=3000)
    assert engine.card.family in ("melody", "vrash", "rl") and panel.model.currentText() == engine.card.name
    qtbot.mouseClick(panel.end_call_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "call ended" in panel.log.toPlainText(), timeout=2000)

    shot = _artifact(tmp_path, "panel-playing.png")
    image = panel.grab().toImage()
    assert image.save(str(shot)) and shot.stat().st_size > 5000
    assert len({image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}) > 10

    sent: list[mido.Message] = []  # what the engine sends from here on, to its port
    inner = engine.output.on_sent
    engine.output.on_sent = lambda t, m: (sent.append(m), inner(t, m))
    qtbot.wait(300)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    player.close()
    assert panel.engine is None and panel.start_button.text() == "Start" and panel.status.text() == "stopped"
    assert not engine.output.sounding and any(m.type == "control_change" and m.control == 123 for m in sent)
    assert engine.figures()["steps"] > 16

    # a second Start with the same --record path keeps the first take
    assert panel.start()
    second = panel.engine.parts.recorder.path
    panel.stop()
    assert second.name == "s-2.mid" and (tmp_path / "s.mid").exists()


@pytest.mark.usefixtures("use_tiny_models")
def test_the_panel_opens_without_a_midi_system_and_says_so(qtbot, tmp_path):
    from accompanist.ui.panel import Panel

    panel = Panel(Settings(model=TINY_DUET, api="coremidi", record=tmp_path / "s.mid"))  # not on Linux
    qtbot.addWidget(panel)
    assert "MIDI API 'coremidi' is not available" in panel.log.toPlainText()
    assert not panel.start() and panel.engine is None
    assert panel.status.text().startswith("MIDI API 'coremidi' is not available")


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_a_preset_in_the_panel_and_a_refused_change(qtbot, tmp_path):
    from accompanist.ui.panel import Panel

    panel = Panel(Settings(model=TINY_DUET, api="jack", record=tmp_path / "s.mid", client_name="panel3"))
    qtbot.addWidget(panel)
    panel.preset.setCurrentText("loop-alto")
    s = panel.settings()
    assert (s.mode, s.model, s.bars, s.program, s.metronome) == ("loop", "chorale-alto", 2, 71, True)
    assert s.count_in == 1  # a setting the panel has no control for is kept as well
    panel.preset.setCurrentText("duet-strings")
    assert panel.start()
    engine = panel.engine
    panel.temperature.setValue(150)  # a drag still waiting to be sent ...
    panel.preset.setCurrentText("duet-sparse")  # ... is not sent after the preset
    qtbot.wait(400)
    assert engine.settings.temperature == 0.8 and engine.settings.max_notes == 2
    assert panel.temperature.value() == 80
    assert not panel._send({"bpm": 1000})  # refused: said, and the controls show what the engine has
    assert "outside 20..400" in panel.status.text() and panel.bpm.value() == engine.settings.bpm
    panel.stop()


def test_ui_flags_given_win_over_its_preset(qtbot, use_tiny_models):
    from accompanist.cli import _live_settings, build_parser
    from accompanist.ui.app import make_panel

    args = build_parser().parse_args(["ui", "--preset", "loop-bass", "--bpm", "140", "--channel", "2"])
    panel = make_panel(_live_settings(args), args.preset)
    qtbot.addWidget(panel)
    assert panel.preset.currentText() == "loop-bass"
    assert panel.bpm.value() == 140 and panel.channel.value() == 2 and panel.bars.value() == 4


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_the_panel_says_why_it_cannot_start_and_stays_usable(qtbot, tmp_path):
    from accompanist.ui.panel import Panel

    panel = Panel(Settings(model=TINY_DUET, api="jack", record=tmp_path / "s.mid", client_name="panel2"))
    qtbot.addWidget(panel)
    panel.inp.setCurrentText("no-such-keyboard")
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert panel.engine is None and panel.start_button.text() == "Start"
    assert "no MIDI input port matches 'no-such-keyboard'" in panel.status.text()
    panel.inp.setCurrentText("virtual")
    assert panel.start()  # and it starts once the port is right
    panel.stop()


def _write_preset(folder: Path, name: str, body) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text = body if isinstance(body, str) else json.dumps(body)
    (folder / f"{name}.json").write_text(text)


def test_shipped_presets_all_load_and_bad_ones_say_what_is_wrong(tmp_path, monkeypatch):
    from accompanist.presets import list_presets, load_preset

    monkeypatch.setenv("ACCOMPANIST_PRESETS", str(tmp_path / "mine"))
    shipped = list_presets()
    assert {"duet-strings", "loop-alto", "daw-follow"} <= set(shipped)
    for name in shipped:
        p = load_preset(name)
        assert p.description and p.settings["mode"] in ("duet", "loop")
    assert load_preset("duet-strings").settings["channel"] == 1  # channel 2 as a musician counts

    cases = {
        "broken": ('{"settings": {"mode": "duet",', "not valid JSON at line 1"),
        "bare": ({"mode": "duet"}, "a preset is"),
        "typo": ({"settings": {"tempreature": 1.0}}, "unknown setting(s) tempreature"),
        "string": ({"settings": {"bpm": "fast"}}, "'bpm' is 'fast'; it takes a number"),
        "boolean": ({"settings": {"bars": True}}, "'bars' is True; it takes int"),
        "channel": ({"settings": {"channel": 17}}, "channel 17 must be 1..16"),
        "mode": ({"settings": {"mode": "karaoke"}}, "unknown mode 'karaoke'"),
        "model": ({"settings": {"mode": "loop", "model": "duet-chorale"}}, "duet-chorale"),
        "tempo": ({"settings": {"bpm": 1000}}, "outside 20..400"),
    }
    for name, (body, message) in cases.items():
        _write_preset(tmp_path / "mine", name, body)
        with pytest.raises(AccompanistError) as err:
            load_preset(name)
        assert message in str(err.value) and f"{name}.json" in str(err.value), str(err.value)
    _write_preset(tmp_path / "mine", "duet-strings", {"description": "mine", "settings": {"bpm": 70}})
    assert load_preset("duet-strings").description == "mine"  # the musician's own wins
    with pytest.raises(AccompanistError, match="no preset named 'nope'"):
        load_preset("nope")


@pytest.mark.usefixtures("use_tiny_models")
def test_live_takes_a_preset_and_flags_given_win(tmp_path, monkeypatch):
    from accompanist.cli import _live_settings, build_parser

    def settings(*flags):
        return _live_settings(build_parser().parse_args(["live", *flags]))

    s = settings("--preset", "loop-alto", "--bpm", "150")
    assert s.mode == "loop" and s.model == "chorale-alto" and s.bars == 2 and s.program == 71
    assert s.bpm == 150  # given on the command line
    assert s.metronome and s.count_in == 1 and s.channel == 1
    # a flag given at its usual value still wins, and a preset's switch can be turned off
    s = settings("--preset", "loop-bass", "--channel", "2", "--bpm", "120")
    assert s.channel == 1 and s.bpm == 120 and s.bars == 4
    s = settings("--preset", "loop-alto", "--no-metronome", "--count-in", "0")
    assert not s.metronome and s.count_in == 0
    s = settings("--preset", "loop-alto", "--mode", "duet")  # the preset's model is a loop model
    assert s.mode == "duet" and s.model is None and s.program == 71
    assert settings().channel == 1 and settings().mode == "duet" and settings().bpm == 120
    assert settings().out == "virtual" and settings("--no-midi-out").out is None
    s = settings("--in-channel", "1", "--listen-ms", "15", "--rest-after", "2")
    assert s.in_channel == 0 and s.listen_ms == 15.0 and s.rest_after == 2.0
    assert_clean_error(run_cli("live", "--out", "virtual", "--no-midi-out"), "--no-midi-out")
    assert_clean_error(run_cli("live", "--in-channel", "17"), "--in-channel 17")
    assert_clean_error(run_cli("live", "--listen-ms", "-3"), "listen window")
    assert_clean_error(run_cli("live", "--preset", "nope"), "no preset named 'nope'")
    monkeypatch.setenv("ACCOMPANIST_PRESETS", str(tmp_path))
    _write_preset(tmp_path, "odd", '{"settings": [1, 2]}')
    assert_clean_error(run_cli("live", "--preset", "odd"), "odd.json", "a preset is")
    listed = run_cli("presets")
    assert listed.returncode == 0 and "duet-strings" in listed.stdout and "odd" in listed.stdout


@pytest.mark.usefixtures("jack_server")
def test_the_panel_opens_as_a_real_window_under_xvfb_and_plays(tmp_path, use_tiny_models):
    """Once on a real X server (Xvfb), not offscreen: the window maps, shows the listen window from
    the model card, plays a scripted melody in duet mode and then in loop mode through JACK, and a
    screenshot of each is kept (ACCOMPANIST_ARTIFACTS). Launch to first paint is printed, not asserted."""
    import shutil

    from helpers import TINY_BI, TINY_DUET_LISTEN

    if not shutil.which("Xvfb"):
        pytest.fail("Xvfb is not installed: run make test (it installs xvfb)")
    display = f":{70 + os.getpid() % 20}"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x1024x24"], stderr=subprocess.DEVNULL)
    shots = {mode: _artifact(tmp_path, f"panel-xvfb-{mode}.png") for mode in ("duet", "loop")}
    script = f"""
import time
t0 = time.perf_counter()
import subprocess
from pathlib import Path
import mido
from PyQt6.QtCore import QEvent, QObject, QTimer
from PyQt6.QtWidgets import QApplication
from accompanist.live.engine import Settings
from accompanist.live.ports import open_output
from accompanist.ui.panel import Panel

app = QApplication([])
painted = []

class FirstPaint(QObject):
    def eventFilter(self, obj, ev):
        if ev.type() == QEvent.Type.Paint and not painted:
            painted.append(time.perf_counter() - t0)
        return False

settings = Settings(mode="duet", model={TINY_DUET_LISTEN!r}, api="jack", client_name="xpanel", bpm=160,
                    record=Path({str(tmp_path / "x.mid")!r}), seed=0)
panel = Panel(settings)
first = FirstPaint()
panel.installEventFilter(first)
panel.resize(1280, 760)
panel.show()
player = open_output("virtual", api="jack", client_name="xplayer")
tune = [67, 71, 74, 72, 71, 69, 67, 66, 67, 71, 74, 79, 78, 76, 74, 72]
step = {{"i": 0}}

def note():
    i = step["i"]
    if i:
        player.send(mido.Message("note_off", note=tune[(i - 1) % len(tune)]))
    player.send(mido.Message("note_on", note=tune[i % len(tune)], velocity=90))
    step["i"] = i + 1

def start():
    print("window", app.platformName(), panel.isVisible(), panel.listen.value(), flush=True)
    if not panel.start():
        print("refused", panel.log.toPlainText().replace(chr(10), " | "), flush=True)
        app.exit(3)
        return
    subprocess.run(["jack_connect", "xplayer-out:out", "xpanel-in:in"], check=True)
    timer.start(188)  # 8th notes at 160 bpm

def shoot(mode, then):
    def go():
        panel.grab().save({{"duet": {str(shots["duet"])!r}, "loop": {str(shots["loop"])!r}}}[mode])
        print(mode, len(panel.roll.model.player), len(panel.roll.model.answer), len(panel.roll.model.ghosts),
              panel.where.place.text().split()[0], flush=True)
        then()
    return go

def to_loop():
    panel.mode.setCurrentText("loop")
    panel.model.setCurrentText({TINY_BI!r})
    QTimer.singleShot(4000, shoot("loop", finish))

def finish():
    timer.stop()
    panel.stop()
    print("first paint", round(painted[0], 3) if painted else None, flush=True)
    app.quit()

timer = QTimer()
timer.timeout.connect(note)
QTimer.singleShot(300, start)
QTimer.singleShot(3800, shoot("duet", to_loop))
app.exec()
# the window goes before the application: left to the interpreter's exit, a panel that ran a
# session was torn down after QApplication now and then (sip: segfault, exit -11)
panel.close()
panel.deleteLater()
app.processEvents()
del panel
"""
    try:
        time.sleep(0.5)
        env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb")
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=90)
    finally:
        xvfb.terminate()
        xvfb.wait(5)
    assert proc.returncode == 0, proc.stderr[-3000:]
    print(proc.stdout)  # launch to first paint, for the log
    from accompanist.inference.cards import load_card

    lines = {line.split()[0]: line.split()[1:] for line in proc.stdout.splitlines() if line.strip()}
    listen = round(load_card(TINY_DUET_LISTEN, family="duet").defaults["listen_ms"])
    assert lines["window"] == ["xcb", "True", str(listen)], proc.stdout
    player, answer, _, place = lines["duet"]
    assert int(player) > 0 and int(answer) > 0 and place == "bar"  # both parts drawn, the bar counted
    player, answer, ghosts, _ = lines["loop"]
    assert int(player) > 0 and int(ghosts) > 0  # loop mode: the planned pass drawn ahead
    assert "first" in lines
    for shot in shots.values():
        assert shot.stat().st_size > 10_000


def test_the_window_without_a_display_is_one_line_and_exit_2():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = subprocess.run(
        [sys.executable, "-m", "accompanist.cli", "ui"], capture_output=True, text=True, env=env, timeout=60
    )
    assert_clean_error(proc, "no display")


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_the_keys_work_wherever_the_focus_is_but_in_a_text_field_being_edited(qtbot, tmp_path):
    from helpers import TINY_BI

    from accompanist.live.terminal import TEMPERATURE_STEP
    from accompanist.ui.panel import Panel

    panel = Panel(Settings(mode="loop", model=TINY_BI, api="jack", record=tmp_path / "f.mid", client_name="focus"))
    qtbot.addWidget(panel)
    panel.show()
    with qtbot.waitActive(panel):
        panel.activateWindow()
    panel.bpm.setFocus()  # a spin box typed in: digits are its own, the panel's keys are the panel's
    panel.bpm.selectAll()
    qtbot.keyClicks(panel.bpm, "96")
    qtbot.keyClick(panel.bpm, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: panel.engine is not None, timeout=3000)  # Space started it
    assert panel.bpm.hasFocus() and panel.bpm.text() == "96" and panel.engine.settings.bpm == 96  # no space typed
    step = round(TEMPERATURE_STEP * 100)  # Up/Down and ]/[ : one step, the terminal's
    before = panel.temperature.value()
    for key, by in ((Qt.Key.Key_Up, step), (Qt.Key.Key_BracketRight, step), (Qt.Key.Key_Down, -step)):
        qtbot.keyClick(panel.bpm, key)
        assert panel.temperature.value() == before + by, key
        before = panel.temperature.value()
    qtbot.keyClick(panel.bpm, Qt.Key.Key_BracketLeft)
    assert panel.temperature.value() == before - step and panel.bpm.value() == 96
    qtbot.keyClick(panel.bpm, Qt.Key.Key_L)
    assert panel.engine.locked
    panel.bars.setFocus()
    qtbot.keyClick(panel.bars, Qt.Key.Key_Escape)  # panic, from a spin box too
    qtbot.waitUntil(lambda: "panic: every note released" in panel.log.toPlainText(), timeout=2000)
    qtbot.keyClick(panel.bars, Qt.Key.Key_Space)
    assert panel.engine is None

    panel.inp.setFocus()  # a text field being edited keeps its keys: a port's name may hold a space
    locked = panel.lock_button.isChecked()
    qtbot.keyClicks(panel.inp, " l")
    assert panel.inp.currentText() == "virtual l" and panel.engine is None and panel.lock_button.isChecked() == locked
    qtbot.keyClick(panel.inp, Qt.Key.Key_Escape)  # Esc leaves it ...
    qtbot.waitUntil(lambda: not panel.inp.hasFocus(), timeout=1000)
    panel.inp.setFocus()
    qtbot.keyClick(panel.inp, Qt.Key.Key_Backspace)
    qtbot.keyClick(panel.inp, Qt.Key.Key_Backspace)
    qtbot.keyClick(panel.inp, Qt.Key.Key_Return)  # ... and so does Enter, the name kept
    qtbot.waitUntil(lambda: not panel.inp.hasFocus(), timeout=1000)
    assert panel.inp.currentText() == "virtual"
    qtbot.keyClick(panel, Qt.Key.Key_Space)  # the panel's keys again
    qtbot.waitUntil(lambda: panel.engine is not None, timeout=3000)
    panel.stop()


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_a_mode_change_is_logged_as_one_and_passes_count_from_where_the_loop_began(qtbot, tmp_path):
    from helpers import TINY_BI

    from accompanist.ui.panel import Panel

    panel = Panel(Settings(model=TINY_DUET, api="jack", record=tmp_path / "m.mid", client_name="modes", bpm=240))
    qtbot.addWidget(panel)
    panel.bars.setValue(1)  # a pass a second at 240 bpm
    assert panel.start()
    qtbot.waitUntil(lambda: panel.steps > 40, timeout=4000)  # well into the session: past its 2nd bar
    panel.mode.setCurrentText("loop")
    panel.model.setCurrentText(TINY_BI)
    log = panel.log.toPlainText
    qtbot.waitUntil(lambda: f"loop mode, model {TINY_BI}" in log(), timeout=3000)
    assert "panic" not in log() and "what was sounding is released" in log()  # said as what it is
    qtbot.waitUntil(lambda: "pass 1:" in log(), timeout=4000)  # the loop's first pass, not the session's
    qtbot.waitUntil(lambda: "pass 2" in panel.where.place.text(), timeout=1000)
    qtbot.waitUntil(lambda: "pass 2:" in log(), timeout=4000)
    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "cleared" in log(), timeout=2000)
    assert panel.where.passes == 0
    qtbot.waitUntil(lambda: "pass" not in panel.where.place.text(), timeout=1000)
    qtbot.waitUntil(lambda: log().split("cleared")[-1].count("pass 1:") == 1, timeout=4000)  # from the clear
    qtbot.mouseClick(panel.panic_button, Qt.MouseButton.LeftButton)  # a panic asked for: said as one
    qtbot.waitUntil(lambda: "panic: every note released" in log(), timeout=2000)
    panel.channel.setValue(5)  # a change that releases: said with the change, not as a panic
    qtbot.waitUntil(lambda: "channel 5; what was sounding is released" in log(), timeout=3000)
    assert log().count("panic") == 1
    panel.stop()
