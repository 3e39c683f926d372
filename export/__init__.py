"""PyTorch -> ONNX export, parity checks against PyTorch, and the model card beside each graph.

Installed as ``accompanist.export``; it needs the [train] extra (torch, onnx)."""
