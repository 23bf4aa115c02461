"""SpiderNet (Geada & McGough): a supernet grown by triangular mutations, pruned by differentiable pruners.

Modules: `ops` (DARTS op set), `graph` (cell DAG, triangular mutation), `pruners` (P(x, w),
deadheading rule), `model` (the supernet), `growth` (Algorithm 1 mutation selection, deadheading),
`config` (Algorithm 2 settings, Table 1 strategies), `training` (device data, cutout, one epoch,
test accuracy), `cycles` (Algorithm 2 and the random ablations, resumable), `runs` (several runs as
executor work units), `draw` (cell PNGs).
"""
from .config import STRATEGIES, SpiderNetConfig, Strategy
from .cycles import DeletionPlan, SpiderNetResult, delete_random_ops, phase_seed, run_spidernet
from .draw import draw_cell
from .graph import CellGraph, triangular_mutation
from .growth import Candidate, Selection, deadhead, mutation_bytes, paired_scores, random_edge, select_mutation
from .model import SpiderNet, param_bytes
from .ops import OPS, get_op
from .pruners import SAW_M, Pruner, PrunerLog, deadhead_keys, gate, saw
from .runs import SpiderNetUnit, run_spidernets
from .training import load_spidernet_data

__all__ = [
    "OPS",
    "SAW_M",
    "STRATEGIES",
    "Candidate",
    "CellGraph",
    "DeletionPlan",
    "Pruner",
    "PrunerLog",
    "Selection",
    "SpiderNet",
    "SpiderNetConfig",
    "SpiderNetResult",
    "SpiderNetUnit",
    "Strategy",
    "deadhead",
    "deadhead_keys",
    "delete_random_ops",
    "draw_cell",
    "gate",
    "get_op",
    "load_spidernet_data",
    "mutation_bytes",
    "paired_scores",
    "param_bytes",
    "phase_seed",
    "random_edge",
    "run_spidernet",
    "run_spidernets",
    "saw",
    "select_mutation",
    "triangular_mutation",
]
