"""Which tracks of a MIDI file are the melody and which the accompaniment, by rule.

Files from the wild (the Lakh MIDI dataset, a user's folder) seldom say which part is the tune.
The rule scores every pitched track on its name, its General MIDI program, how monophonic it is
and how high it sits, and takes the best as the melody; every other pitched track, merged, is the
accompaniment, except tracks that only double the melody (a copy would teach the model to echo).
Drums (MIDI channel 10, index 9) never count. A track holding several channels (every type-0
file, some type-1 ones) is split by channel first. Both choices can be overridden by track index
or name. The rule's settings go into the data's cache key and the model card (``describe``).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from accompanist.limits import channel_to_user
from accompanist.music.midi_io import Song, Track
from accompanist.music.notes import Note

DRUM_CHANNEL = 9


def _program_scores() -> tuple[float, ...]:
    """How much a General MIDI program suggests a lead line (0-based programs)."""
    s = [0.0] * 128  # pianos, chromatic percussion, guitars: neutral, they play either role
    for lo, hi, v in [
        (16, 20, -0.5),  # organs mostly hold chords
        (22, 22, 1.0),  # harmonica
        (32, 39, -3.0),  # basses
        (40, 40, 1.0),  # violin
        (41, 41, 0.5),  # viola
        (43, 43, -2.0),  # contrabass
        (44, 46, -1.0),  # tremolo and pizzicato strings, harp
        (47, 47, -3.0),  # timpani
        (48, 51, -1.0),  # string ensembles, synth strings
        (53, 54, 1.0),  # voice oohs, synth voice: where Lakh files often put the sung line
        (55, 55, -2.0),  # orchestra hit
        (56, 56, 1.0),  # trumpet
        (57, 57, 0.5),  # trombone
        (58, 58, -2.0),  # tuba
        (59, 59, 1.0),  # muted trumpet
        (60, 60, 0.5),  # french horn
        (61, 63, -0.5),  # brass sections
        (64, 66, 1.0),  # saxophones
        (68, 69, 1.0),  # oboe, english horn
        (70, 70, -0.5),  # bassoon
        (71, 71, 1.0),  # clarinet
        (72, 79, 1.0),  # pipes: piccolo, flute, recorder, ...
        (80, 87, 1.0),  # synth leads
        (88, 95, -1.0),  # synth pads
        (96, 103, -1.0),  # synth effects
        (109, 111, 1.0),  # bagpipe, fiddle, shanai
        (112, 119, -2.0),  # percussive
        (120, 127, -3.0),  # sound effects
    ]:
        for p in range(lo, hi + 1):
            s[p] = v
    return tuple(s)


PROGRAM_SCORES = _program_scores()


@dataclass
class PickRule:
    """The rule, with its thresholds and overrides; ``describe()`` goes into cache keys and cards.

    Overrides name a track by its index in the file (as ``--track``) or by a case-insensitive
    substring of its name; a track split by channel is named ``"<name> [ch N]"`` (N from 1).
    """

    #: override: the melody track (index or name substring); None lets the rule choose
    melody: int | str | None = None
    #: override: the accompaniment tracks; None means every other pitched track
    accompaniment: list[int | str] | None = None
    #: matched at the start of a word in the track name, case-insensitive
    melody_words: tuple[str, ...] = (
        "melod", "lead", "vocal", "voice", "vox", "sing", "soprano", "tune", "theme", "solo", "right hand", "rh",
    )  # fmt: skip
    not_melody_words: tuple[str, ...] = (
        "bass", "drum", "perc", "pad", "chord", "comp", "accomp", "rhythm", "strings", "left hand", "lh", "harmony",
    )  # fmt: skip
    name_weight: float = 3.0  #: score of a name keyword (negative keywords subtract it)
    program_weight: float = 1.0  #: multiplies the program table
    mono_weight: float = 2.0  #: penalty per mean simultaneous note above one
    pitch_weight: float = 1.0  #: penalty per octave below the highest track's mean pitch
    #: a track sounding more notes at once than this on average cannot be the rule's melody
    max_melody_polyphony: float = 1.5
    min_melody_notes: int = 16
    #: the best track must score at least this (a lone bass line is no melody); None: no floor
    min_melody_score: float | None = -2.0
    #: an accompaniment track whose notes double the melody's (same onset and pitch class) this
    #: often is left out; None keeps every track
    doubling: float | None = 0.8
    program_scores: tuple[float, ...] = field(default=PROGRAM_SCORES, repr=False)

    def describe(self) -> dict:
        d = asdict(self)
        d["melody_words"] = list(self.melody_words)
        d["not_melody_words"] = list(self.not_melody_words)
        # Runs of equal scores, "lo-hi": score, so the table is readable in a card.
        runs: dict[str, float] = {}
        start = 0
        for p in range(1, 129):
            if p == 128 or self.program_scores[p] != self.program_scores[start]:
                if self.program_scores[start]:
                    runs[f"{start}-{p - 1}"] = self.program_scores[start]
                start = p
        d["program_scores"] = runs
        d["drums"] = "channel 10 (index 9) never counts"
        return d


@dataclass
class Candidate:
    """A pitched track (or one channel of a track) with the features the rule reads."""

    track: int  #: index of the track in the file
    channel: int
    name: str
    program: int
    notes: list[Note]
    split: bool = False  #: one channel of a track holding several
    mean_pitch: float = 0.0
    polyphony: float = 1.0  #: mean number of notes sounding while any sounds
    score: float = 0.0

    def __post_init__(self) -> None:
        self.mean_pitch = sum(n.pitch for n in self.notes) / max(len(self.notes), 1)
        self.polyphony = _polyphony(self.notes)

    def describe(self) -> str:
        return f"{self.name!r} (track {self.track}, ch {channel_to_user(self.channel)}, program {self.program})"


@dataclass
class Pick:
    melody: Candidate
    accompaniment: list[Candidate]
    #: tracks left out of the accompaniment because they double the melody
    doublings: list[Candidate] = field(default_factory=list)

    @property
    def melody_notes(self) -> list[Note]:
        return self.melody.notes

    @property
    def accompaniment_notes(self) -> list[Note]:
        return sorted((n for c in self.accompaniment for n in c.notes), key=lambda n: (n.start, -n.pitch))


def _polyphony(notes: list[Note]) -> float:
    """Total note time over the time at least one note sounds."""
    if not notes:
        return 0.0
    notes = sorted(notes, key=lambda n: n.start)
    busy = total = 0
    cur_s, cur_e = notes[0].start, notes[0].end
    for n in notes:
        total += n.end - n.start
        if n.start > cur_e:
            busy += cur_e - cur_s
            cur_s, cur_e = n.start, n.end
        else:
            cur_e = max(cur_e, n.end)
    busy += cur_e - cur_s
    return total / busy if busy > 0 else float(len(notes))


def _programs(track: Track) -> dict[int, int]:
    """Each channel's program at its first note (the last program change before it), else its first."""
    first_note: dict[int, int] = {}
    for n in track.notes:
        first_note.setdefault(n.channel, n.start)
    prog: dict[int, int] = {}
    for tick, msg in track.events:
        if msg.type == "program_change":
            ch = msg.channel
            if ch not in prog or tick <= first_note.get(ch, -1):
                prog[ch] = msg.program
    return prog


def candidates(song: Song) -> list[Candidate]:
    """The pitched tracks of a song, split by channel where a track holds several; no drums."""
    out: list[Candidate] = []
    song_programs: dict[int, int] = {}
    per_track = [_programs(t) for t in song.tracks]
    for p in per_track:
        for ch, prog in p.items():
            song_programs.setdefault(ch, prog)
    for i, t in enumerate(song.tracks):
        by_channel: dict[int, list[Note]] = {}
        for n in t.notes:
            by_channel.setdefault(n.channel, []).append(n)
        split = len(by_channel) > 1
        for ch in sorted(by_channel):
            if ch == DRUM_CHANNEL:
                continue
            # A track without its own program change takes one sent for its channel elsewhere.
            prog = per_track[i].get(ch, song_programs.get(ch, 0))
            name = f"{t.name} [ch {ch + 1}]" if split else t.name
            out.append(Candidate(i, ch, name, prog, by_channel[ch], split=split))
    return out


def _word_hit(name: str, words: tuple[str, ...]) -> bool:
    for w in words:
        tail = r"(?![a-z])" if len(w) <= 3 else ""  # "rh" must not match "rhythm"
        if re.search(rf"(?<![a-z]){re.escape(w)}{tail}", name):
            return True
    return False


def score(c: Candidate, rule: PickRule, top_pitch: float) -> float:
    s = 0.0
    if not c.split:  # a split track's name belongs to all its channels, it says nothing of one
        name = c.name.lower()
        s += rule.name_weight * (_word_hit(name, rule.melody_words) - _word_hit(name, rule.not_melody_words))
    s += rule.program_weight * rule.program_scores[c.program]
    s -= rule.mono_weight * max(0.0, c.polyphony - 1.0)
    s -= rule.pitch_weight * (top_pitch - c.mean_pitch) / 12.0
    return s


def _matches(c: Candidate, want: int | str) -> bool:
    if isinstance(want, int):
        return c.track == want
    return want.lower() in c.name.lower()


def _doubles(c: Candidate, melody_keys: set[tuple[int, int]], grid: float, threshold: float) -> bool:
    hits = sum((round(n.start / grid), n.pitch % 12) in melody_keys for n in c.notes)
    return hits >= threshold * len(c.notes)


def pick_tracks(song: Song, rule: PickRule | None = None) -> Pick | str:
    """The melody and accompaniment of a song, or the reason it has none (a short phrase, counted
    by the data builders)."""
    rule = rule or PickRule()
    cands = candidates(song)
    if not cands:
        has_drums = any(n.channel == DRUM_CHANNEL for t in song.tracks for n in t.notes)
        return "drums only" if has_drums else "no notes"
    if len(cands) == 1 and rule.melody is None and rule.accompaniment is None:
        return "one pitched track only"
    top = max(c.mean_pitch for c in cands)
    for c in cands:
        c.score = score(c, rule, top)

    if rule.melody is not None:
        pool = [c for c in cands if _matches(c, rule.melody)]
        if not pool:
            return "melody override matched no track"
    else:
        pool = [c for c in cands if c.polyphony <= rule.max_melody_polyphony]
        if not pool:
            return "no monophonic melody"
    melody = max(pool, key=lambda c: (c.score, c.mean_pitch, -c.track))
    if rule.melody is None:
        if rule.min_melody_score is not None and melody.score < rule.min_melody_score:
            return "no melody-like track"
        # The likeliest tune being short means a short piece; a longer runner-up (an arpeggio,
        # a bass line) would make a wrong pair, so the file is skipped rather than guessed.
        if len(melody.notes) < rule.min_melody_notes:
            return "melody too short"

    others = [c for c in cands if c is not melody]
    doublings: list[Candidate] = []
    if rule.accompaniment is not None:
        acc = [c for c in others if any(_matches(c, w) for w in rule.accompaniment)]
        if not acc:
            return "accompaniment override matched no track"
    else:
        acc = others
        if rule.doubling is not None:
            grid = song.ticks_per_beat / 4  # a 16th either way is the same onset
            keys = {(round(n.start / grid), n.pitch % 12) for n in melody.notes}
            doublings = [c for c in acc if _doubles(c, keys, grid, rule.doubling)]
            acc = [c for c in acc if not any(c is d for d in doublings)]
    if not any(c.notes for c in acc):
        return "accompaniment silent"
    return Pick(melody, acc, doublings)
