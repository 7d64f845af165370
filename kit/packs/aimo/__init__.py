"""The AI Mathematical Olympiad pack (AIMO3): the mini-competition's problems, answer extraction and voting, the
metric, and the sandbox that runs model-written Python.

Nothing here imports torch, Kaggle or CLI code; answers.py and voting.py are stdlib only.
"""
