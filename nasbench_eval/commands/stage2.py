"""`nasbench-eval stage2 RUN_DIR --selector valid --seed S`: select one architecture from a Stage-1 run."""
from __future__ import annotations

from .._validation import MAX_EPOCHS, MAX_IMAGES, MAX_LR, SEED_MAX, float_arg, int_arg
from ..benchmarks import create_benchmark
from ..data.specs import get_spec
from ..stage2 import BASELINES, SELECTORS, baseline_run, make_stage2_data, run_selector, selection_truth
from ..train import load_run, load_stage1_data
from ..train.loop import space_ground_truth
from ._evaluation_args import add_evaluation_arguments


def add_arguments(p):
    p.add_argument("run_dir", help="run directory written by `nasbench-eval stage1`")
    p.add_argument("--selector", required=True, choices=list(SELECTORS), help="Stage-2 algorithm")
    p.add_argument("--seed", type=int_arg(0, SEED_MAX), default=0,
                   help="seeds the draws, the perturb edge order and the batches (default 0)")
    p.add_argument("--samples", type=int_arg(1, 15625), default=100,
                   help="architectures drawn by valid / synflow / jacob_cov (default 100)")
    p.add_argument(
        "--baseline", choices=BASELINES, help="use a baseline supernet of spec §7.1 built from an rsps_biased run"
    )
    add_evaluation_arguments(p, per="accuracy")
    p.add_argument("--train-images", type=int_arg(1, MAX_IMAGES),
                   help="use only this many images of the train half (quick runs)")
    p.add_argument("--valid-images", type=int_arg(1, MAX_IMAGES),
                   help="use only this many images of the valid half (quick runs)")
    p.add_argument(
        "--finetune-epochs",
        type=int_arg(0, MAX_EPOCHS),
        default=0,
        help="perturb: DARTS-PT fine-tuning epochs on the train half between edge decisions "
             "(default 0 = none; DARTS-PT: 5)",
    )
    p.add_argument("--finetune-lr", type=float_arg(0, MAX_LR, exclusive_minimum=True),
                   help="perturb: fine-tuning learning rate (default: the run's Stage-1 lr / 10)")
    p.add_argument("--device", help="cpu, cuda or cuda:N (default: CUDA if available)")


def _data(args, run):
    if args.selector == "prune":
        return None
    train, valid = load_stage1_data(run.config["dataset"], n_train=args.train_images, n_valid=args.valid_images,
                                    device=next(run.supernet.parameters()).device, data_dir=args.data_dir)
    return make_stage2_data(train, valid, seed=args.seed, batch_size=args.batch_size, n_eval=args.eval_images,
                            bn_batches=args.bn_batches)


def run(args) -> dict:
    run_ = load_run(args.run_dir, device=args.device)
    if args.baseline:
        run_ = baseline_run(args.baseline, run_, seed=args.seed)
    bench = create_benchmark("nb201", data_dir=args.data_dir)
    gt = space_ground_truth(run_.config["space"], run_.config["dataset"], bench=bench)[1:]
    res = run_selector(
        args.selector,
        run_,
        seed=args.seed,
        n_samples=args.samples,
        data=_data(args, run_),
        ground_truth=gt,
        finetune_epochs=args.finetune_epochs,
        finetune_lr=args.finetune_lr,
    )
    return {
        "run_dir": str(run_.path),
        "method": run_.config["method"],
        "baseline": args.baseline,
        "selector": args.selector,
        "seed": args.seed,
        "space": run_.config["space"],
        "dataset": get_spec(run_.config["dataset"]).full,
        **selection_truth(res.arch, bench=bench, space_truth=gt),
        "seconds": res.seconds,
        "trajectory": res.trajectory,
    }


def format_text(r: dict) -> str:
    base = f" (baseline {r['baseline']})" if r["baseline"] else ""
    if r["arch"] is None:
        return f"{r['selector']} on {r['method']}{base}: no selection (every score NaN)"
    accs = ", ".join(f"{d} {v:.2f}" for d, v in r["test_acc"].items())
    return "\n".join(
        [
            f"{r['selector']} seed {r['seed']} on {r['method']}{base} ({r['space']} space): index {r['index']}  "
            f"{r['arch']}",
            f"test_acc@200: {accs}",
            f"regret on {r['dataset']} ({r['space']} space): {r['regret']:.2f} points; selection took "
            f"{r['seconds']:.2f} s",
        ]
    )
