"""ONNX Runtime runners: the only way the run-time path calls a model (numpy and onnxruntime, no torch)."""
