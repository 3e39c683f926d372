"""The soak's player: a musician improvising for minutes, not a sequencer and not noise.

The validation tunes (never the test ones) are played one after another with human timing
(``evaluation.player.human_timing``, 15 ms SD), each tune's first downbeat on a bar line of the
engine's clock, with what players do besides a tune, seeded so a soak is repeatable:

* now and then a chord under the tune on a downbeat (a triad below the note, a beat long);
* grace-note flurries just before a downbeat (three notes 30 ms apart, off any grid);
* the sustain pedal down through whole tunes, lifted and caught again at each bar line;
* two bars of silence after every fifth tune (the duet stops and must come back).

Every note struck is released, and the pedal lifted, before the script ends.
"""

from __future__ import annotations

import numpy as np

#: (absolute time, message type, note or control, velocity or value)
Event = tuple[float, str, int, int]


def medley(seconds: float, bpm: float, steps_per_bar: int = 16, seed: int = 0) -> list[Event]:
    """Events for ``seconds`` from a bar line at time 0 (the bench adds the engine's bar line:
    the script is made before the engine starts, so that making it takes no time from it)."""
    from accompanist.data.tunes import tune_sets
    from accompanist.evaluation.player import PlayerConfig, human_timing
    from accompanist.music.roll import tokens_to_roll

    sets = tune_sets("validation")
    # one tune of each collection in turn: a German song, an English ballad, an Irish dance...
    tunes = [(t.melodies[j], t.phases[j]) for j in range(max(len(t.melodies) for t in sets)) for t in sets
             if j < len(t.melodies)]  # fmt: skip
    rng = np.random.default_rng(seed)
    step = 60.0 / bpm / (steps_per_bar // 4)
    bar = step * steps_per_bar
    cfg = PlayerConfig(bpm=bpm, seed=seed)
    end = seconds
    events: list[Event] = []
    t = 0.0
    for i in range(2 * len(tunes)):
        melody, phases = tunes[i % len(tunes)]
        pickup = (-int(np.argmax(phases == 0))) * step if (phases == 0).any() else 0.0
        t0 = t + bar + pickup  # a bar's gap, then the tune's first downbeat on a bar line
        notes = human_timing(tokens_to_roll(melody), cfg, steps_per_bar // 4, tune=i)
        if not notes or t0 + notes[-1][1] > end - bar:
            if t0 > end - 8 * bar:
                break
            continue  # too long for the time left: a shorter one may fit
        for on, off, pitch in notes:
            events += [(t0 + on, "note_on", pitch, int(rng.integers(50, 110))), (t0 + off, "note_off", pitch, 0)]
        last = t0 + max(off for _, off, _ in notes)
        downbeats = np.arange(t0 - pickup, last - bar, bar)
        for d in downbeats:
            held = [p for on, off, p in notes if on - 0.03 <= d - t0 < off]
            if held and rng.random() < 0.12:  # a chord under the tune, a beat long
                root = held[0] - 12
                for p in (root - 7, root - 3, root):
                    events += [(d + 0.01, "note_on", p, 70), (d + bar / 4, "note_off", p, 0)]
            if rng.random() < 0.05:  # grace notes into the downbeat
                for j, p in enumerate(int(x) for x in rng.integers(60, 80, 3)):
                    events += [(d - 0.09 + 0.03 * j, "note_on", p, 60), (d - 0.075 + 0.03 * j, "note_off", p, 0)]
        if rng.random() < 0.25:  # the pedal through the tune, caught again at each bar line
            for d in downbeats:
                events += [(d - 0.02, "control_change", 64, 0), (d + 0.03, "control_change", 64, 127)]
            events.append((last + 0.01, "control_change", 64, 0))
        t = t0 - pickup + np.ceil((last - t0 + pickup) / bar) * bar
        if i % 5 == 4:
            t += 2 * bar
    events.sort(key=lambda e: (e[0], e[1] != "note_off"))  # at one moment, releases first
    return [(float(t), kind, int(a), int(b)) for t, kind, a, b in events]
