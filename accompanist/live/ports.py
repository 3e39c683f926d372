"""MIDI ports: list them, find one by a piece of its name, open it (or a virtual one) on the API
the user asked for, and turn every way that can fail into one readable line.

Ports are mido ports over python-rtmidi. ``api`` is ``jack``, ``alsa`` or ``auto``; ``auto``
takes the platform's own MIDI system (CoreMIDI on macOS, Windows MultiMedia on Windows) and on
Linux ALSA where its sequencer exists, else a running JACK server. A port is named exactly, or
by a case-insensitive substring that matches one port only; ``virtual`` makes ports of our own
that a DAW or another program connects to: ``accompanist-in:in`` and ``accompanist-out:out``
(each rtmidi port is a client of its own, and two clients cannot share a name).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import mido

from accompanist.errors import AccompanistError
from accompanist.live.input_guard import CHANNEL_DATA, COMMON_DATA, MAX_BATCH, InputGuard
from accompanist.live.stamps import ArrivalClock

#: our names for the rtmidi APIs (as mido spells them)
APIS = {
    "jack": "UNIX_JACK",
    "alsa": "LINUX_ALSA",
    "coremidi": "MACOSX_CORE",
    "winmm": "WINDOWS_MM",
}
CLIENT = "accompanist"
VIRTUAL = "virtual"
LOOPMIDI = (
    "this system cannot create virtual MIDI ports; create one with loopMIDI "
    "(https://www.tobias-erichsen.de/software/loopmidi.html) and pass its name with --in/--out"
)


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence what ALSA and JACK's C libraries print on stderr while we probe them: we report
    the failure ourselves, in one line."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def rtmidi_api(api: str):
    import rtmidi

    return getattr(rtmidi, f"API_{APIS[api]}")


def _usable(api: str) -> bool:
    import rtmidi

    if rtmidi_api(api) not in rtmidi.get_compiled_api():
        return False
    try:
        with quiet_native_stderr():
            rtmidi.MidiIn(rtapi=rtmidi_api(api)).delete()
        return True
    except rtmidi.RtMidiError:
        return False


def resolve_api(api: str = "auto") -> str:
    """The API to use, checked: a server that is not running is a clear error, not a crash."""
    if api not in ("auto", *APIS):
        raise AccompanistError(f"unknown MIDI API '{api}'; use one of: auto, {', '.join(APIS)}")
    if api != "auto":
        if not _usable(api):
            hint = {
                "jack": "start the JACK server first (e.g. jackd -d alsa, or qjackctl)",
                "alsa": "this system has no ALSA sequencer (/dev/snd/seq); try --api jack",
            }.get(api, "this API is not available on this system")
            raise AccompanistError(f"MIDI API '{api}' is not available: {hint}")
        return api
    candidates = {"darwin": ["coremidi"], "win32": ["winmm"]}.get(sys.platform, ["alsa", "jack"])
    for c in candidates:
        if _usable(c):
            return c
    raise AccompanistError(
        "no MIDI system is available: on Linux load the ALSA sequencer (snd-seq) or start a JACK server"
    )


def jack_period() -> float | None:
    """Seconds in one period of the running JACK server (frames / rate), or None if unknown.

    Asked of JACK's own tools, which come with the server: python-rtmidi cannot tell."""
    import re
    import shutil
    import subprocess

    values = []
    for tool in ("jack_bufsize", "jack_samplerate"):
        if not shutil.which(tool):
            return None
        try:
            out = subprocess.run([tool], capture_output=True, text=True, timeout=3).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        found = re.search(r"\d+", out)
        if not found:
            return None
        values.append(int(found.group()))
    frames, rate = values
    return frames / rate if frames > 0 and rate > 0 else None


@dataclass(frozen=True)
class PortList:
    api: str
    inputs: list[str]
    outputs: list[str]


def list_ports(api: str = "auto", own: str = CLIENT) -> PortList:
    """The ports a player can choose. A running accompanist's own ports (client ``own``) are
    left out: its input is no place to send an answer, nor its output one to listen to (either
    would make a feedback loop)."""
    api = resolve_api(api)
    backend = mido.Backend(f"mido.backends.rtmidi/{APIS[api]}")
    with quiet_native_stderr():
        inputs, outputs = list(backend.get_input_names()), list(backend.get_output_names())
    return PortList(
        api,
        [n for n in inputs if not n.startswith(f"{own}-out")],
        [n for n in outputs if not n.startswith(f"{own}-in")],
    )


def find_port(wanted: str, names: list[str], kind: str) -> str:
    """The one port named ``wanted`` exactly, or else the one whose name holds it (any case)."""
    if wanted in names:
        return wanted
    hits = [n for n in names if wanted.lower() in n.lower()]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        have = ", ".join(repr(n) for n in names) or "none"
        raise AccompanistError(f"no MIDI {kind} port matches '{wanted}'; {kind} ports: {have} (see: accompanist ports)")
    raise AccompanistError(f"'{wanted}' matches {len(hits)} {kind} ports ({', '.join(map(repr, hits))}); say which")


#: data bytes after a status byte: channel messages by their high nibble, system common by value


class MidiDecoder:
    """Raw MIDI bytes to messages, as a wire carries them: running status (data bytes that
    reuse the last channel status, within an event or across events), real-time bytes in the
    middle of a message, sysex; stray data bytes and undefined status bytes are dropped.
    mido's own parser drops running-status messages, and ``Message.from_bytes`` refuses them."""

    def __init__(self) -> None:
        self.running: int | None = None

    def passed(self, status: int) -> None:
        """A whole message went by undecoded: keep running status as if it had been read."""
        if status < 0xF0:
            self.running = status
        elif status < 0xF8:
            self.running = None

    def decode(self, data: list[int]) -> list[mido.Message]:
        out: list[mido.Message] = []
        i, n = 0, len(data)
        while i < n:
            b = data[i]
            if b >= 0xF8:  # real time: one byte, anywhere, leaves running status alone
                if b not in (0xF9, 0xFD):
                    out.append(mido.Message.from_bytes([b]))
                i += 1
                continue
            if b == 0xF0:
                end = next((j for j in range(i + 1, n) if data[j] == 0xF7), None)
                if end is not None and all(x < 0x80 for x in data[i + 1 : end]):
                    out.append(mido.Message.from_bytes(data[i : end + 1]))
                self.running = None
                i = n if end is None else end + 1
                continue
            if b >= 0xF0:  # system common ends running status
                self.running = None
                size = COMMON_DATA.get(b)
                if size is None:
                    i += 1
                    continue
                status, i = b, i + 1
            elif b >= 0x80:
                self.running, status, i = b, b, i + 1
                size = CHANNEL_DATA[b & 0xF0]
            elif self.running is not None:
                status, size = self.running, CHANNEL_DATA[self.running & 0xF0]
            else:
                i += 1  # a data byte with no status to belong to
                continue
            body = []
            while len(body) < size and i < n and data[i] < 0x80:
                body.append(data[i])
                i += 1
            while len(body) < size and i < n and data[i] >= 0xF8:  # real time inside a message
                if data[i] not in (0xF9, 0xFD):
                    out.append(mido.Message.from_bytes([data[i]]))
                i += 1
                while len(body) < size and i < n and data[i] < 0x80:
                    body.append(data[i])
                    i += 1
            if len(body) == size:
                try:
                    out.append(mido.Message.from_bytes([status, *body]))
                except ValueError:  # what mido will not build is lost alone, not with its event
                    pass
        return out


class _RtPort:
    """An rtmidi port of ours (``_rt``), closed once."""

    _rt: object
    closed: bool

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._rt.close_port()
            self._rt.delete()


class MidiInput(_RtPort):
    """An input port that we poll instead of being called back.

    rtmidi stamps and queues every message on its own (JACK's or ALSA's) thread, in C++; we
    collect them from our own thread. A Python callback there would need the GIL inside JACK's
    process cycle, and any Python thread holding it (5 ms by default) makes the whole JACK graph
    late: seen here as dropped and repeated MIDI events on other clients' ports.
    """

    def __init__(self, rt, name: str):
        self._rt, self.name = rt, name
        self.closed = False
        self._decoder = MidiDecoder()
        self._arrivals = ArrivalClock()
        self.guard: InputGuard | None = None  #: set by the engine: what is worth decoding

    def poll(self, now: float) -> list[tuple[float, mido.Message]]:
        """The messages waiting (at most ``input_guard.MAX_BATCH``), each with its arrival time
        (``stamps.ArrivalClock``: from rtmidi's deltas, not from when we happened to poll). Bytes
        are decoded as a wire carries them (``MidiDecoder``); what is not MIDI is dropped, and
        what the guard refuses is never decoded."""
        raw = []
        while len(raw) < MAX_BATCH and (item := self._rt.get_message()) is not None:
            raw.append(item)
        times = self._arrivals.stamp([delta for _, delta in raw], now)
        out: list[tuple[float, mido.Message]] = []
        for t, (data, _) in zip(times, raw, strict=True):  # in order: running status runs across events
            if self.guard is not None and not self.guard.admit(data, t):
                self._decoder.passed(data[0] if data else 0xF8)
                continue
            try:
                out.extend((t, m) for m in self._decoder.decode(list(data)))
            except (ValueError, TypeError, KeyError):
                pass
        return out

    def sources(self) -> list[str]:
        """The ports this input could connect to now (cheap: asks our own client)."""
        return [] if self.closed else list(self._rt.get_ports())


class MidiOutput(_RtPort):
    """An output connected to the port ``target``, on a client named ``client`` (mido would name
    it "RtMidiOut Client", and a DAW's port list would show that). Sending writes to rtmidi's
    C++ ring buffer, as mido's port does."""

    def __init__(self, target: str, api: str, client: str):
        import rtmidi

        self._rt = rtmidi.MidiOut(rtapi=rtmidi_api(api), name=client)
        try:
            self._rt.open_port(self._rt.get_ports().index(target), "out")
        except (ValueError, rtmidi.RtMidiError):
            self._rt.delete()
            raise OSError(f"port '{target}' went away") from None
        self.name, self.closed = target, False

    def send(self, msg: mido.Message) -> None:
        if not self.closed:
            self._rt.send_message(msg.bytes())


def output_targets(port) -> list[str]:
    """The ports a mido rtmidi output could connect to now, asked of its own client."""
    return list(port._rt.get_ports())


def open_input(wanted: str, api: str = "auto", client_name: str = CLIENT) -> MidiInput:
    """An input port by name, substring or ``virtual``, to poll (see MidiInput)."""
    import rtmidi

    api = resolve_api(api)
    try:
        with quiet_native_stderr():
            rt = rtmidi.MidiIn(rtapi=rtmidi_api(api), name=f"{client_name}-in", queue_size_limit=4096)
    except rtmidi.RtMidiError as exc:
        raise AccompanistError(f"cannot open MIDI input ({exc})") from None
    rt.ignore_types(sysex=True, timing=False, active_sense=True)
    try:
        if wanted == VIRTUAL:
            if api == "winmm":
                raise AccompanistError(LOOPMIDI)
            try:
                with quiet_native_stderr():
                    rt.open_virtual_port("in")
            except (rtmidi.RtMidiError, NotImplementedError) as exc:
                raise AccompanistError(f"cannot create a virtual MIDI input port ({exc}); {LOOPMIDI}") from None
            return MidiInput(rt, f"{client_name}-in:in")
        names = rt.get_ports()
        name = find_port(wanted, names, "input")
        try:
            with quiet_native_stderr():
                rt.open_port(names.index(name), "in")
        except rtmidi.RtMidiError as exc:
            raise AccompanistError(f"cannot open MIDI input port '{name}' ({exc}); is it in use or gone?") from None
        return MidiInput(rt, name)
    except BaseException:
        rt.delete()
        raise


def open_output(wanted: str, api: str = "auto", client_name: str = CLIENT):
    """A mido output port by name, substring or ``virtual``. Sending only writes to rtmidi's
    C++ ring buffer: no Python runs on JACK's thread."""
    import rtmidi

    api = resolve_api(api)
    backend = mido.Backend(f"mido.backends.rtmidi/{APIS[api]}")
    if wanted == VIRTUAL:
        if api == "winmm":
            raise AccompanistError(LOOPMIDI)
        try:
            with quiet_native_stderr():
                return backend.open_output("out", virtual=True, client_name=f"{client_name}-out")
        except (OSError, rtmidi.RtMidiError, NotImplementedError) as exc:
            raise AccompanistError(f"cannot create a virtual MIDI output port ({exc}); {LOOPMIDI}") from None
    with quiet_native_stderr():
        # never one of our own: our input is no place for our answer (a loop), nor offered as one
        names = [n for n in backend.get_output_names() if not n.startswith(f"{client_name}-")]
    name = find_port(wanted, names, "output")
    try:
        with quiet_native_stderr():
            return MidiOutput(name, api, f"{client_name}-out")
    except (OSError, rtmidi.RtMidiError) as exc:
        raise AccompanistError(f"cannot open MIDI output port '{name}' ({exc}); is it in use or gone?") from None
