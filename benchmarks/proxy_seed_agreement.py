"""How much of a proxy's ranking survives a change of init seed and batch: Spearman between two runs.

Run A scores every arch with weights from seed 0 on one shared batch (our default protocol); run B uses
weights from seed 1 and a fresh batch per arch (NASLib's and zero-cost-nas's protocol). Both follow the
`--profile` otherwise. A proxy whose two runs rank archs differently cannot agree with a published table
computed with other weights and batches, however exact its definition: this bounds the rank agreement any
independent re-implementation can reach.

    python benchmarks/proxy_seed_agreement.py --proxies snip,grasp,plain,jacob_cov --archs 50 --profile naslib
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau, spearmanr

from nasbench_eval._json import write_json
from nasbench_eval.data.sampling import proxy_batch
from nasbench_eval.provenance import provenance
from nasbench_eval.proxies import score_arch
from nasbench_eval.proxies.scoring import resolve_settings
from nasbench_eval.space.nb201 import all_archs

RESULTS = Path(__file__).resolve().parent / "results"


def _run(archs, proxy, profile, *, seed: int, batches) -> list[float]:
    return [score_arch(a, proxy, batch, profile=profile, seed=seed, device="cpu").value
            for a, batch in zip(archs, batches)]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--proxies", default="snip,grasp,plain,jacob_cov")
    p.add_argument("--archs", type=int, default=50)
    p.add_argument("--profile", default="naslib")
    p.add_argument("--sample-seed", type=int, default=7)
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    archs = random.Random(args.sample_seed).sample(list(all_archs()), args.archs)
    started = time.time()
    rows = {}
    for proxy in args.proxies.split(","):
        b = resolve_settings(proxy, args.profile)["batch_size"]
        shared = [proxy_batch("cifar10", b, seed=0, augment=True, device="cpu")] * len(archs)
        fresh = [proxy_batch("cifar10", b, seed=1000 + i, augment=True, device="cpu") for i in range(len(archs))]
        a = np.array(_run(archs, proxy, args.profile, seed=0, batches=shared))
        f = np.array(_run(archs, proxy, args.profile, seed=1, batches=fresh))
        ok = np.isfinite(a) & np.isfinite(f)
        rows[proxy] = {"n": int(ok.sum()), "batch_size": b, "spearman": float(spearmanr(a[ok], f[ok])[0]),
                       "kendall": float(kendalltau(a[ok], f[ok])[0]), "run_a": a.tolist(), "run_b": f.tolist()}
        print(proxy, {k: v for k, v in rows[proxy].items() if not k.startswith("run_")}, flush=True)
    record = {"benchmark": "proxy_seed_agreement", **provenance("cpu"),
              "wall_seconds": round(time.time() - started, 1),
              "profile": args.profile, "n_archs": args.archs, "sample_seed": args.sample_seed,
              "run_a": "weights seed 0, one shared batch (proxy_batch seed 0, crop+flip)",
              "run_b": "weights seed 1, a fresh batch per arch (proxy_batch seed 1000+i, crop+flip)",
              "archs": [str(a) for a in archs], "proxies": rows}
    out = Path(args.out) if args.out else RESULTS / f"proxy_seed_agreement_{args.profile}_{args.archs}_cpu.json"
    write_json(out, record)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
