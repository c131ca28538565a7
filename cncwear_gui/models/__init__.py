"""Models: baseline estimators, evaluation protocols, the benchmark."""
