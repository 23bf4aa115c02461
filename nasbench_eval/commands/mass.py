"""`nasbench-eval mass ALPHAS.json|.npy`: sampling-probability mass of a 6x5 architecture distribution (spec §5, §6)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .._validation import MAX_EPOCHS, check_out_file, int_arg
from ..benchmarks import DATASETS, create_benchmark
from ..exceptions import CorruptDataError, DataNotFoundError, InvalidParameterError
from ..metrics import arch_probs, benchmark_codes, biased_sampler_probs, edge_probs, mass_curve
from ..metrics.plots import plot_mass
from ..metrics.sampling import KINDS
from ._scorefile_args import PLOT_SUFFIXES, default_plot_path
from ..space import EDGES, OPS, Arch


def add_arguments(p):
    p.add_argument(
        "alphas",
        help='6x5 matrix (rows = edges in string order, columns = ops): .npy, or .json '
             '(a list of rows or {"alphas": rows})',
    )
    p.add_argument(
        "--kind",
        default="softmax",
        choices=KINDS,
        help="softmax: logits (DARTS alpha); dirichlet: concentrations (mean beta/sum); probs: probabilities "
             "(default softmax)",
    )
    p.add_argument("--dataset", default="cifar10", choices=DATASETS, help="ground-truth dataset (default cifar10)")
    p.add_argument("--epochs", type=int_arg(1, MAX_EPOCHS), default=200,
                   help="ground-truth schedule: 12 or 200 (default 200)")
    p.add_argument("--n-groups", type=int_arg(1, 1000), default=25,
                   help="levels at every N//n_groups sorted position (default 25)")
    p.add_argument("--biased", action="store_true", help="also plot the idealised biased sampler (spec §6)")
    p.add_argument("--out", help="output PNG (default: <alphas stem>_mass.png next to the alphas file)")


def read_alphas(path: str | Path) -> np.ndarray:
    """The 6x5 float64 matrix stored in a .npy or .json file (JSON null, as `stage1` writes it, is -inf)."""
    path = Path(path)
    expected = "a .npy array or JSON list of 6 rows of 5 numbers"
    if not path.is_file():
        raise DataNotFoundError(f"mass: alphas file {str(path)!r} does not exist or is not a file; "
                                f"expected {expected}.")
    try:
        if path.suffix == ".npy":
            value = np.load(path, allow_pickle=False)
        else:
            value = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(value, dict):
                value = value.get("alphas")
            if isinstance(value, list):
                value = [[-np.inf if v is None else v for v in row] if isinstance(row, list) else row for row in value]
        arr = np.asarray(value, dtype=np.float64)
    except (ValueError, TypeError, OSError, EOFError) as err:
        reason = " ".join(str(err).split())[:200]
        raise CorruptDataError(f"mass: {str(path)!r} does not hold a numeric matrix ({reason}); "
                               f"expected {expected}.") from None
    shape = (len(EDGES), len(OPS))
    if arr.shape != shape:
        raise CorruptDataError(
            f"mass: {str(path)!r} holds an array of shape {arr.shape}; expected shape {shape} "
            f"(rows = edges, columns = ops {list(OPS)})."
        )
    if np.isnan(arr).any():
        raise CorruptDataError(f"mass: {str(path)!r} holds {int(np.isnan(arr).sum())} NaN entries; expected numbers.")
    return arr


def run(args) -> dict:
    out = check_out_file(args.out or default_plot_path(args.alphas, "mass"), suffixes=PLOT_SUFFIXES)
    alphas = read_alphas(args.alphas)
    try:
        probs = edge_probs(alphas, kind=args.kind)
    except InvalidParameterError as err:
        raise InvalidParameterError(f"mass: {str(args.alphas)!r} with --kind {args.kind}: {err}") from None
    bench = create_benchmark("nb201", data_dir=args.data_dir)
    y_true = bench.accuracies(args.dataset, "test_acc", args.epochs)
    pi = arch_probs(probs, benchmark_codes(bench))
    curves = {f"{Path(args.alphas).stem} ({args.kind})": mass_curve(y_true, pi, n_groups=args.n_groups)}
    if args.biased:
        curves["biased sampler"] = mass_curve(y_true, biased_sampler_probs(y_true), n_groups=args.n_groups)
    out = plot_mass(curves, out, title=f"{args.dataset} ({args.epochs} epochs)")
    main, *rest = curves.values()
    top = bench.index_of(Arch.from_code(np.argmax(probs, axis=1)))
    result = {
        "alphas": str(args.alphas),
        "kind": args.kind,
        "dataset": args.dataset,
        "epochs": args.epochs,
        "n_archs": int(len(y_true)),
        "n_groups": args.n_groups,
        "sum_probs": float(pi.sum()),
        "probs": probs.tolist(),
        "argmax_index": top,
        "argmax_arch": bench.arch_str(top),
        "argmax_acc": float(y_true[top]),
        "thresholds": main.threshold.tolist(),
        "mass": main.mass.tolist(),
        "baseline": main.baseline.tolist(),
        "mean_mass": float(main.mass.mean()),
        "mean_baseline": float(main.baseline.mean()),
        "plot": str(out),
    }
    if rest:
        result["biased_mass"] = rest[0].mass.tolist()
    return result


def format_text(r: dict) -> str:
    lines = [
        f"{r['alphas']} ({r['kind']}) on {r['dataset']} ({r['epochs']} epochs): sum of probabilities "
        f"{r['sum_probs']:.6f}",
        f"per-edge argmax: index {r['argmax_index']} {r['argmax_arch']} ({r['argmax_acc']:.2f}%)",
        f"{'T (%)':>8} {'mass':>8} {'uniform':>8}" + (f" {'biased':>8}" if "biased_mass" in r else ""),
    ]
    for j, t in enumerate(r["thresholds"]):
        extra = f" {r['biased_mass'][j]:>8.4f}" if "biased_mass" in r else ""
        lines.append(f"{t:>8.3f} {r['mass'][j]:>8.4f} {r['baseline'][j]:>8.4f}{extra}")
    lines.append(f"mean mass {r['mean_mass']:.4f} (uniform {r['mean_baseline']:.4f})")
    lines.append(f"plot: {r['plot']}")
    return "\n".join(lines)
