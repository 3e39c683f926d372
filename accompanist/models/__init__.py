"""PyTorch modules, one file per paper. Imported only for training and export (never live)."""
