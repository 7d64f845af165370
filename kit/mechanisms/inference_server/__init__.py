"""The inference-server mechanism: Kaggle's `kaggle_evaluation` wire contract and a gateway rehearsal.

`kaggle_evaluation/` is self-contained (it never imports kit) because it is also copied verbatim into a
competition's data folder; `package.py` is the kit side that writes such a copy. Importing this package imports
neither grpc nor polars: both load only when the wire itself is used.
"""
