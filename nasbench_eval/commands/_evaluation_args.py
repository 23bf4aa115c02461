"""CLI options shared by the commands that measure a supernet's accuracy on the valid half (`stage1-eval`,
`stage2`): BN recalibration passes, batch size and images per accuracy."""
from __future__ import annotations

from .._validation import MAX_BATCH, MAX_IMAGES, int_arg


def add_evaluation_arguments(p, *, per: str) -> None:
    """``--bn-batches``, ``--batch-size``, ``--eval-images``; `per` names what one evaluation produces."""
    p.add_argument("--bn-batches", type=int_arg(0, 1000), default=20,
                   help="BN recalibration passes per arch (default 20; 0 = none)")
    p.add_argument("--batch-size", type=int_arg(1, MAX_BATCH), default=256,
                   help="batch size of recalibration and evaluation (default 256)")
    p.add_argument("--eval-images", type=int_arg(1, MAX_IMAGES), default=5000,
                   help=f"valid-half images per {per} (default 5000)")
