"""`nasbench-eval mass ALPHAS.json|.npy`: sampling-probability mass of a 6x5 architecture distribution (spec §5, §6)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..benchmarks import DATASETS, create_benchmark
from ..exceptions import CorruptDataError, DataNotFoundError
from ..metrics import arch_probs, benchmark_codes, biased_sampler_probs, edge_probs, mass_curve
from ..metrics.sampling import KINDS
from ..plots import plot_mass
from ..scorefile import default_plot_path
from ..space import EDGES, OPS, Arch


def add_arguments(p):
    p.add_argument("alphas", help="6x5 matrix (rows = edges in string order, columns = ops): .npy, or .json (a list of rows or {\"alphas\": rows})")
    p.add_argument("--kind", default="softmax", choices=KINDS,
                   help="softmax: logits (DARTS alpha); dirichlet: concentrations (mean beta/sum); probs: probabilities (default softmax)")
    p.add_argument("--dataset", default="cifar10", choices=DATASETS, help="ground-truth dataset (default cifar10)")
    p.add_argument("--epochs", type=int, default=200, help="ground-truth schedule: 12 or 200 (default 200)")
    p.add_argument("--n-groups", type=int, default=25, help="levels at every N//n_groups sorted position (default 25)")
    p.add_argument("--biased", action="store_true", help="also plot the idealised biased sampler (spec §6)")
    p.add_argument("--out", help="output PNG (default: <alphas stem>_mass.png next to the alphas file)")


def read_alphas(path: str | Path) -> np.ndarray:
    """The 6x5 float64 matrix stored in a .npy or .json file."""
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"mass: alphas file {str(path)!r} does not exist; expected a .npy or .json 6x5 matrix.")
    try:
        if path.suffix == ".npy":
            value = np.load(path, allow_pickle=False)
        else:
            value = json.loads(path.read_text())
            if isinstance(value, dict):
                value = value.get("alphas")
        arr = np.asarray(value, dtype=np.float64)
    except (ValueError, TypeError, OSError) as err:
        raise CorruptDataError(f"mass: {str(path)!r} does not hold a numeric matrix ({err}); expected a .npy array or JSON list of 6 rows of 5 numbers.") from err
    shape = (len(EDGES), len(OPS))
    if arr.shape != shape:
        raise CorruptDataError(f"mass: {str(path)!r} holds an array of shape {arr.shape}; expected shape {shape} (rows = edges, columns = ops {list(OPS)}).")
    return arr


def run(args) -> dict:
    probs = edge_probs(read_alphas(args.alphas), kind=args.kind)
    bench = create_benchmark("nb201", data_dir=args.data_dir)
    y_true = bench.accuracies(args.dataset, "test_acc", args.epochs)
    pi = arch_probs(probs, benchmark_codes(bench))
    curves = {f"{Path(args.alphas).stem} ({args.kind})": mass_curve(y_true, pi, n_groups=args.n_groups)}
    if args.biased:
        curves["biased sampler"] = mass_curve(y_true, biased_sampler_probs(y_true), n_groups=args.n_groups)
    out = plot_mass(curves, args.out or default_plot_path(args.alphas, "mass"), title=f"{args.dataset} ({args.epochs} epochs)")
    main, *rest = curves.values()
    top = bench.index_of(Arch.from_code(np.argmax(probs, axis=1)))
    result = {
        "alphas": str(args.alphas), "kind": args.kind, "dataset": args.dataset, "epochs": args.epochs,
        "n_archs": int(len(y_true)), "n_groups": args.n_groups, "sum_probs": float(pi.sum()),
        "probs": probs.tolist(), "argmax_index": top, "argmax_arch": bench.arch_str(top), "argmax_acc": float(y_true[top]),
        "thresholds": main.threshold.tolist(), "mass": main.mass.tolist(), "baseline": main.baseline.tolist(),
        "mean_mass": float(main.mass.mean()), "mean_baseline": float(main.baseline.mean()), "plot": str(out),
    }
    if rest:
        result["biased_mass"] = rest[0].mass.tolist()
    return result


def format_text(r: dict) -> str:
    lines = [f"{r['alphas']} ({r['kind']}) on {r['dataset']} ({r['epochs']} epochs): sum of probabilities {r['sum_probs']:.6f}",
             f"per-edge argmax: index {r['argmax_index']} {r['argmax_arch']} ({r['argmax_acc']:.2f}%)",
             f"{'T (%)':>8} {'mass':>8} {'uniform':>8}" + (f" {'biased':>8}" if "biased_mass" in r else "")]
    for j, t in enumerate(r["thresholds"]):
        extra = f" {r['biased_mass'][j]:>8.4f}" if "biased_mass" in r else ""
        lines.append(f"{t:>8.3f} {r['mass'][j]:>8.4f} {r['baseline'][j]:>8.4f}{extra}")
    lines.append(f"mean mass {r['mean_mass']:.4f} (uniform {r['mean_baseline']:.4f})")
    lines.append(f"plot: {r['plot']}")
    return "\n".join(lines)
