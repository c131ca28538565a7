"""The panels of the Monitoring view, one per feature, each with its own worker and state:

* ``champion_panel``: the champion, **Retrain now** (the automated pipeline in a child process),
  and the line that says how loading the monitoring snapshot goes;
* ``drift_panels``: the drift checks of the live windows (the checker and its heatmap), the
  largest PSI per feature group, the latest check, and the predicted P(worn) distribution;
* ``statistics_panel``: the champion's confusion matrix, ROC and precision/recall;
* ``pipeline_panel``: the pipeline's triggers, its history of firings and the trigger watcher;
* ``metrics_panel``: the application metrics of this process.

The view (monitoring_view.py) reads the snapshot and hands it to the panels.
"""
