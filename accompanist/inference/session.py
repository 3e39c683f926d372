"""ONNX Runtime sessions set up for low latency on a small CPU."""

from __future__ import annotations

from pathlib import Path


def open_session(path: Path, threads: int = 1):
    """One session per graph; one intra-op thread by default, since our graphs are small and a
    second thread costs more in wake-ups than it gains (and the live engine needs the other core)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
