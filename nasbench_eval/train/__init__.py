"""Stage-1 supernet training and evaluation on NB201 ([PUP] §4.1, [LZ] §3).

- `load_stage1_data` -- train / valid halves resident on the device, crop + flip there (`data.crop_flip`);
- `train_stage1` -- one loop for every method in `METHODS`;
- `save_run` / `load_run` -- run directory (weights, distributions, curves, config);
- `predict_accuracies` / `evaluate_runs` -- supernet-predicted accuracy and its metrics vs ground truth;
- `GroupedSupernet` / `iter_group_predictions` -- many architectures per forward pass, per-arch BatchNorm;
- `PredictionStore` / `predict_cached` -- predictions kept in ``RUN_DIR/predictions.sqlite``, resumable.
"""
from __future__ import annotations

from .batched_eval import GroupedSupernet, iter_group_predictions
from .data import DeviceSplit, load_stage1_data
from .evaluate import Stage1Evaluation, evaluate_runs, predict_accuracies, recalibrate_bn, write_evaluation
from .loop import Stage1Result, resolve_hparams, space_ground_truth, train_stage1
from .methods import METHODS, Stage1Method, method_defaults
from .prediction_store import PredictionStore, Predictions, predict_cached
from .run import LoadedRun, load_run, save_run

__all__ = [
    "METHODS", "DeviceSplit", "GroupedSupernet", "LoadedRun", "PredictionStore", "Predictions", "Stage1Evaluation",
    "Stage1Method", "Stage1Result", "evaluate_runs", "iter_group_predictions", "load_run",
    "load_stage1_data", "method_defaults", "predict_accuracies", "predict_cached", "recalibrate_bn", "resolve_hparams",
    "save_run", "space_ground_truth", "train_stage1", "write_evaluation",
]
