"""PyTorch networks of the NB201 / NATS-Bench spaces, their initialization and their costs.

- `build_network` -- tss network (and narrow skeletons and mixed-edge supernets); `build_thin_network`
  -- TE-NAS's thin linear-region net; `build_sss_network` -- size-space network.
- `init_weights` -- the spec's init schemes; `get_op` -- one candidate op.
- `count_params`, `count_flops`, `nb201_params`, `nb201_flops`, `space_costs`, `dataset_spec`.
"""
from __future__ import annotations

from .cell import Cell, Edge, parse_cell_spec, skip_unused_ops, unused_edges
from .cost import count_flops, count_params, dataset_spec, nb201_flops, nb201_params, space_costs
from .init import INIT_SCHEMES, init_weights
from .network import CellNetwork, ResidualBlock, build_network, build_thin_network
from .ops import get_op
from .sss import SSS_GENOTYPE, build_sss_network

__all__ = [
    "INIT_SCHEMES", "SSS_GENOTYPE", "Cell", "CellNetwork", "Edge", "ResidualBlock",
    "build_network", "build_sss_network", "build_thin_network", "count_flops", "count_params",
    "dataset_spec", "get_op", "init_weights", "nb201_flops", "nb201_params", "parse_cell_spec", "skip_unused_ops",
    "space_costs", "unused_edges",
]
