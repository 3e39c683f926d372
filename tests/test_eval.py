"""`accompanist eval FILE...`: harmony figures of files that harmonize wrote."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import TINY_BI, TINY_UNI, assert_clean_error, melody_of_length, run_cli

from accompanist.cli import main
from accompanist.evaluation import harmoniser as ev
from accompanist.offline.harmonize import harmonize_file


@pytest.fixture
def two_outputs(use_tiny_models, melody_file, tmp_path):
    results = []
    for i, (model, steps) in enumerate([(TINY_BI, 64), (TINY_UNI, 100)]):
        src = melody_file(melody_of_length(steps), name=f"in{i}.mid")
        results.append(harmonize_file(src, tmp_path / f"out{i}.mid", model=model, seed=i))
    return results


def test_eval_files_prints_a_table(two_outputs, capsys):
    files = [str(r.midi_path) for r in two_outputs]
    assert main(["eval", *files]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "| | " + " | ".join(ev.COLUMNS) + " |"
    assert lines[1].startswith("|---|")
    assert lines[2].startswith("| 2 files |") and lines[3].startswith("| Bach (both) |")
    assert all(line.count("|") == len(ev.COLUMNS) + 2 for line in lines[2:])
    # the row holds the figures of what the runner answered, read back from the files
    want = ev.measure([r.melody for r in two_outputs], [r.accompaniment for r in two_outputs], "both")
    assert lines[2] == ev.format_row("2 files", want)


def test_eval_files_json(two_outputs, capsys):
    assert main(["eval", "--json", "--voice", "alto", *[str(r.midi_path) for r in two_outputs]]) == 0
    fig = json.loads(capsys.readouterr().out)
    assert set(ev.COLUMNS) <= set(fig)
    assert fig["pieces"] == 2 and fig["steps"] == 64 + 100
    want = ev.measure([r.melody for r in two_outputs], [r.accompaniment for r in two_outputs], "alto")
    for k in ev.COLUMNS:
        assert fig[k] == pytest.approx(want[k], nan_ok=True), k
    assert fig["ic_overlap"] is not None and 0 <= fig["ic_overlap"] <= 1


def test_eval_of_a_file_without_the_tracks_is_a_clean_error(melody_file, two_outputs, tmp_path):
    plain = melody_file(name="plain.mid")  # one track, named 'lead'
    assert_clean_error(run_cli("eval", two_outputs[0].midi_path, plain), str(plain), "'player') and 'accompaniment'")
    assert_clean_error(run_cli("eval", tmp_path / "gone.mid"), str(tmp_path / "gone.mid"), "no such file")
    assert_clean_error(run_cli("eval"), "--model")


def test_eval_reads_accompanists_own_respond_files_with_the_melody_table(
    use_tiny_models, melody_file, two_outputs, tmp_path, capsys
):
    from helpers import TINY_MELODY

    from accompanist.evaluation import melody_respond as mr
    from accompanist.music.keys import find_key
    from accompanist.music.tokens import HOLD
    from accompanist.offline.respond_file import respond_file

    src = melody_file([(60 + 2 * (i % 4), 4) for i in range(8)], name="call.mid")
    answered = [respond_file(src, tmp_path / f"ans{i}.mid", model=TINY_MELODY, seed=i) for i in range(2)]
    files = [str(r.midi_path) for r in answered]
    assert main(["eval", *files, str(two_outputs[0].midi_path)]) == 0  # both kinds: both tables
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:2] == ["in_call_key", "scale_consis"]
    assert out[1].startswith("answers (2 files)") and out[2].startswith("their calls")
    assert out[3].startswith("| |") and out[5].startswith("| 1 file |")
    # the answers as read back are the answers written, from the bar line they start on
    rows = mr.measure_respond_files(files)
    tokens = [mr.events_to_tokens(r.answer) for r in answered]
    call = np.concatenate([[60 + 2 * (i % 4)] + [HOLD] * 3 for i in range(8)])
    want = mr._table(tokens, [find_key(call)] * 2, [16, 16])
    assert rows[0]["in_call_key"] == pytest.approx(want["in_call_key"])
    assert rows[0]["pitch_range"] == pytest.approx(want["pitch_range"])
