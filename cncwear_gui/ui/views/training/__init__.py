"""The panels of the Training view, one per feature, each with its own worker and state:

* ``search_panel``: the AutoML search's engine and settings, the feature set and its leakage check;
* ``run_panel``: a running search's progress, live figures and score curve, and its summary;
* ``results_panels``: the leaderboard and the talk's comparison table with the baselines;
* ``paired_panel``: the paired protocol (the taught monitor on matched unworn/worn runs);
* ``registry_panel``: champion vs challenger with Promote, and the MLflow UI button.

The view (training_view.py) starts the run with the search panel's choices and hands its outcome
to the result and registry panels.
"""
