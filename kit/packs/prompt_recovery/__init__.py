"""The LLM Prompt Recovery pack: templates, post-processing, the local metric, inference and training.

Nothing in this package imports Kaggle or CLI code.
"""
