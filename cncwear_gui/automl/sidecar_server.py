"""The prediction sidecar. Runs in the AutoML runtime (Python 3.9) and serves one saved model.

    <automl python> sidecar_server.py MODEL.pkl

Protocol over stdin/stdout (binary, little-endian float64 matrices):
    sidecar → {"ready": true, "classes": [...], "fast_steps": {"forests": i, ...}}\\n
                                                                          once, after loading
    client  → {"op": "predict_proba"|"predict", "rows": n, "cols": m}\\n + n*m*8 bytes
    sidecar → {"ok": true, "rows": n, "cols": k}\\n + n*k*8 bytes         or {"ok": false, "error": "..."}\\n
    client  → {"op": "ping"}\\n   → {"ok": true, "rows": 0, "cols": 0}\\n
    client  → {"op": "shutdown"}\\n (or closes stdin)                      the sidecar exits
Anything the model prints goes to stderr: stdout carries only the protocol.
This file must stay importable by Python 3.9 and must not import cncwear_gui: its helpers
(sidecar_speedups.py, forest_sum.py) are imported as sibling files. runtime.sidecar_script() is
its path, for the client (models/predictor.py).
"""

import json
import os
import pickle
import sys


def main(model_path):
    protocol_out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # stray prints and library logging go to stderr
    sys.stdout = sys.stderr
    requests = sys.stdin.buffer

    import numpy as np

    from sidecar_speedups import OneThreadForSmallBatches, speed_up  # a sibling file: this script's folder is on sys.path

    with open(model_path, "rb") as handle:
        model = pickle.load(handle)
    fast_steps = speed_up(model)
    one_thread = OneThreadForSmallBatches()

    def send(header, payload=b""):
        protocol_out.write(json.dumps(header).encode() + b"\n" + payload)

    send({"ready": True, "classes": np.asarray(model.classes_).tolist(), "fast_steps": fast_steps})
    while True:
        line = requests.readline()
        if not line:
            return
        request = json.loads(line)
        op = request.get("op")
        if op == "shutdown":
            return
        if op == "ping":
            send({"ok": True, "rows": 0, "cols": 0})
            continue
        rows, cols = int(request.get("rows", 0)), int(request.get("cols", 0))
        payload = requests.read(rows * cols * 8)
        try:
            X = np.frombuffer(payload, dtype="<f8").reshape(rows, cols)
            with one_thread(rows):
                if op == "predict_proba":
                    result = np.asarray(model.predict_proba(X), dtype="<f8")
                elif op == "predict":
                    result = np.asarray(model.predict(X), dtype="<f8").reshape(-1, 1)
                else:
                    raise ValueError("unknown op %r" % op)
            result = np.ascontiguousarray(result)
            send({"ok": True, "rows": result.shape[0], "cols": result.shape[1]}, result.tobytes())
        except Exception as error:
            send({"ok": False, "error": "%s: %s" % (type(error).__name__, error)})


if __name__ == "__main__":  # auto-sklearn models may use forkserver-based helpers
    main(sys.argv[1])
