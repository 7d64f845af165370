"""kit: a Kaggle-native competition kit."""
__version__ = "0.1.0"
