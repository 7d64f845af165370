"""What runs inside an internet-off kernel: time guards, fallback-first writers, input resolution, parameters.

Installed into kernels from the offline wheel bundle, so these modules stay light (the stdlib, and the kit's base
modules): nothing here imports torch, papermill or the Kaggle client at import time."""
