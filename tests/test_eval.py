"""`accompanist eval FILE...`: harmony figures of files that harmonize wrote."""

from __future__ import annotations

import json

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
