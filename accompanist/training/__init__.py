"""The training loop shared by every model family: epochs, held-out metrics, checkpoints, resume."""
