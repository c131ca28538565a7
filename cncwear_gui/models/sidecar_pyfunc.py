"""MLflow pyfunc (models-from-code) for auto-sklearn models, loadable from the main runtime.

``mlflow.pyfunc.load_model`` runs this file: it checks the pickle against the SHA-256 recorded
when cncwear logged it, then serves predictions through the sidecar in the AutoML runtime
(auto-sklearn cannot be imported in the main runtime). ``predict`` returns class labels, like
MLflow's scikit-learn flavour; ``unwrap_python_model().predictor`` is the full ``Predictor``.

MLflow logs a copy of this file with each model (store/tracking.py) and runs that copy, not this
one: every copy, including those logged while this file lived in cncwear_gui/automl/, imports
``cncwear_gui.models.predictor.SidecarPredictor`` by that absolute name, which must stay importable.
"""

import hashlib

import mlflow
import numpy as np
from mlflow.pyfunc import PythonModel


class AutoSklearnSidecarModel(PythonModel):
    def load_context(self, context):
        from cncwear_gui.models.predictor import SidecarPredictor

        config = context.model_config
        path = context.artifacts["autosklearn_model"]
        with open(path, "rb") as handle:
            if hashlib.file_digest(handle, "sha256").hexdigest() != config["sha256"]:
                raise RuntimeError(f"{path} was changed after cncwear wrote it; it is not loaded")
        self.feature_names = list(config["feature_names"])
        self.predictor = SidecarPredictor(path, self.feature_names)

    def predict(self, context, model_input, params=None):
        if hasattr(model_input, "columns"):
            model_input = model_input[self.feature_names]
        return self.predictor.predict(np.asarray(model_input, dtype=float))


mlflow.models.set_model(AutoSklearnSidecarModel())
