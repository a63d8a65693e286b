"""Early-warning risk of chronic absence (RISK.md): as-of features, LightGBM with baselines,
calibration, fairness audit, plain-word reasons, model cards, and the OULAD replication.

Persistence is files (`VAR_DIR/models/<run-id>/`); every function here takes plain data.
`app.py` (imported on its own, it needs Django) registers runs as model versions and writes
the nightly scores and watch-list flags through `attend.insights.actions`.
"""

from .features import DEMOGRAPHICS, FEATURES, Lake, read_lake, scoring_frame, training_frame
from .pipeline import Options, headline, known_as_of, score_date, train_run
from .reasons import ACTIONABLE, explain

__all__ = [
    "ACTIONABLE",
    "DEMOGRAPHICS",
    "FEATURES",
    "Lake",
    "Options",
    "explain",
    "headline",
    "known_as_of",
    "read_lake",
    "score_date",
    "scoring_frame",
    "train_run",
    "training_frame",
]
