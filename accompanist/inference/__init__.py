"""The models at run time: their cards (``cards``), one runner a family (ONNX Runtime and numpy,
no torch: the only way the run-time path calls a model) and sampling. The offline verbs that
drive them from files are ``accompanist.offline``; the live engine is ``accompanist.live``."""
