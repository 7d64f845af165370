"""A rehearsal of Kaggle's `kaggle_evaluation` inference-server protocol, written for kit.

It speaks the same gRPC wire as Kaggle's package of version 0.9.0 (the one AIMO3 ships), so a starter notebook
that does `import kaggle_evaluation.<comp>_inference_server` runs unchanged against it. Nothing here is generated:
the protobuf messages are built from descriptors at import (core/wire.py).
"""

__version__ = "0.9.0"
