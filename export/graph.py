"""One way to write an ONNX graph: the TorchScript exporter, opset 17, every input and output's
first axis (the batch) dynamic unless other axes are given, its warnings kept off the terminal."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch


def to_onnx(
    module: torch.nn.Module,
    args: tuple,
    path: Path,
    inputs: list[str],
    outputs: list[str],
    axes: dict[str, dict[int, str]] | None = None,
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module.eval(),
            args,
            path,
            input_names=inputs,
            output_names=outputs,
            dynamo=False,
            opset_version=17,
            dynamic_axes=axes if axes is not None else {n: {0: "batch"} for n in inputs + outputs},
        )
