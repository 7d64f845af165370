"""The chain, host side and generic: build, submit, run-local, history, demo, wheels, pushes, experiments.

It talks to a competition only through `kit.pack` and to Kaggle only through `kit.kaggle`."""
