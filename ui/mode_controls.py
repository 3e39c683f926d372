"""The controls of one mode each: the duet's notes at most and listen window, the loop's bars a
pass, respond mode's call bars, answer bars and variation. Each range is the limits table's
(``accompanist.limits.LIMITS``); a control of another mode is shown but off."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtWidgets import QDoubleSpinBox, QSpinBox

from accompanist.limits import LIMITS

#: what the answer-bars box says at its bottom: the answer is as long as the call (``None``)
AS_THE_CALL = "as long as the call"
#: the model families whose answers take a variation (VRASH's latent: near the call .. as trained)
VARIED = ("vrash",)


class ModeControls:
    def __init__(self, changed: Callable[..., None]):
        self.max_notes = QSpinBox()
        self.max_notes.setRange(*LIMITS["max_notes"].span())
        self.max_notes.valueChanged.connect(lambda v: changed(max_notes=v))
        self.listen = QSpinBox()
        self.listen.setRange(*LIMITS["listen_ms"].span())
        self.listen.setSuffix(" ms")
        self.listen.setToolTip("each answer waits this long after its beat to hear the note it answers")
        self.listen.valueChanged.connect(lambda v: changed(listen_ms=float(v)))
        self.bars = QSpinBox()
        self.bars.setRange(*LIMITS["bars"].span())
        self.bars.valueChanged.connect(lambda v: changed(bars=v))
        self.call_bars = QSpinBox()
        self.call_bars.setRange(*LIMITS["call_bars"].span())
        self.call_bars.setToolTip(LIMITS["call_bars"].help)
        self.call_bars.valueChanged.connect(lambda v: changed(call_bars=v))
        self.answer_bars = QSpinBox()
        lo, hi = LIMITS["answer_bars"].span()
        self.answer_bars.setRange(lo - 1, hi)  # one below the table's range: the call's own length
        self.answer_bars.setSpecialValueText(AS_THE_CALL)
        self.answer_bars.setToolTip(LIMITS["answer_bars"].help)
        self.answer_bars.valueChanged.connect(lambda _: changed(answer_bars=self.answer_bars_value()))
        self.variation = QDoubleSpinBox()
        self.variation.setRange(LIMITS["variation"].lo, LIMITS["variation"].top)
        self.variation.setDecimals(2)
        self.variation.setSingleStep(0.1)
        self.variation.setToolTip(f"VRASH models: {LIMITS['variation'].note}")
        self.variation.valueChanged.connect(lambda v: changed(variation=v))
        self._family = ""

    def rows(self) -> list[tuple[str, QSpinBox | QDoubleSpinBox]]:
        """(label, control) for the panel's form, in the order the modes are listed."""
        return [
            ("notes at most (duet)", self.max_notes),
            ("listen window (duet)", self.listen),
            ("bars a pass (loop)", self.bars),
            ("call: bars at most (respond)", self.call_bars),
            ("answer: bars (respond)", self.answer_bars),
            ("variation (respond, VRASH)", self.variation),
        ]

    def answer_bars_value(self) -> int | None:
        v = self.answer_bars.value()
        return None if v < LIMITS["answer_bars"].lo else v

    def show_settings(self, s, default: Callable[[str], float]) -> None:
        """Set the controls to ``s``; ``default(key)``: the chosen model's default where ``s`` has none."""
        self.max_notes.setValue(s.max_notes or default("max_notes"))
        self.listen.setValue(round(s.listen_ms if s.listen_ms is not None else default("listen_ms")))
        self.bars.setValue(s.bars)
        self.call_bars.setValue(s.call_bars)
        self.answer_bars.setValue(self.answer_bars.minimum() if s.answer_bars is None else s.answer_bars)
        self.variation.setValue(s.variation if s.variation is not None else default("variation"))

    def values(self, base) -> dict:
        """The settings these controls hold; variation only where the model takes one (else as ``base``)."""
        return {
            "max_notes": self.max_notes.value(),
            "listen_ms": float(self.listen.value()),
            "bars": self.bars.value(),
            "call_bars": self.call_bars.value(),
            "answer_bars": self.answer_bars_value(),
            "variation": self.variation.value() if self._family in VARIED else base.variation,
        }

    def for_mode(self, mode: str, family: str) -> None:
        """Only the controls of ``mode`` (and of the model's ``family``) are on."""
        self._family = family
        self.max_notes.setEnabled(mode == "duet")
        self.listen.setEnabled(mode == "duet")
        self.bars.setEnabled(mode == "loop")
        self.call_bars.setEnabled(mode == "respond")
        self.answer_bars.setEnabled(mode == "respond")
        self.variation.setEnabled(mode == "respond" and family in VARIED)
