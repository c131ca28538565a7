"""AutoML: auto-sklearn in its own runtime (Python 3.9) and FLAML in-process."""
