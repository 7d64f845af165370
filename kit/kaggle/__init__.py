"""The Kaggle boundary: the only code that imports the official `kaggle` client (in client.py, lazily).

`kaggle_client(config, sandbox=None)` gives a `KaggleClient` for kaggle.com or, in sandbox mode, for the local
emulator (kit.kaggle.emulator) that speaks the same API.
"""
