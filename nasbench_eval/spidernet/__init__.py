"""SpiderNet (Geada & McGough): a supernet grown by triangular mutations, pruned by differentiable pruners.

Modules: `ops` (DARTS op set), `graph` (cell DAG, triangular mutation), `pruners` (P(x, w),
deadheading rule), `model` (the supernet), `growth` (Algorithm 1 mutation selection, deadheading).
"""
from .graph import CellGraph, triangular_mutation
from .growth import Candidate, Selection, deadhead, paired_scores, random_edge, select_mutation
from .model import SpiderNet, param_bytes
from .ops import OPS, get_op
from .pruners import SAW_M, Pruner, PrunerLog, deadhead_keys, gate, saw

__all__ = [
    "OPS", "SAW_M", "Candidate", "CellGraph", "Pruner", "PrunerLog", "Selection", "SpiderNet", "deadhead",
    "deadhead_keys", "gate", "get_op", "paired_scores", "param_bytes", "random_edge", "saw",
    "select_mutation", "triangular_mutation",
]
