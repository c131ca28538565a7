"""Live data: sources, smoothing of per-sample probabilities into a wear state, alarms."""
