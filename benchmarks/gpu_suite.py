"""Every GPU figure the README quotes, in one run of at most ~8 minutes on one H100/H200, as JSON.

Steps (each a subprocess running the repository's own script, so the suite measures exactly what a user runs;
each has a time limit and its record keeps the command, wall seconds, exit status and the JSON it wrote):

1. ``gpu_tests``: the ``gpu``-marked tests (``pytest -m gpu``).
2. ``engine_throughput``: `benchmarks/proxy_throughput.py`, the batched engine on 1,000 archs per core proxy
   (200 for ntk_cond) against one arch at a time on the first 50, with the speedup, and ``full_space_seconds``:
   grouped seconds per arch measured there times 15,625 archs, summed over the 4 core proxies (an extrapolation,
   stated in the JSON's ``full_space_note``).
3. ``correlate_1000`` / ``correlate_ntk_200``: `benchmarks/correlation_table.py` (the CLI's ``correlate``) on 1,000
   archs for nwot, synflow, lr_count, jacob_cov, and on 200 for ntk_cond.
4. ``stage1_one_epoch``: `benchmarks/stage1_methods.py`, one epoch of each Stage-1 method.
5. ``spidernet_short``: `benchmarks/spidernet_table2.py`, a short SpiderNet run (one cycle, one final epoch).

``--smoke`` runs the same steps and scripts on the CPU at tiny sizes (small networks, a few archs, tiny images;
correlate scores synflow and lr_count on 4 archs) in well under a minute, so the suite is known to work before GPU
time is spent on it; its numbers mean nothing.

    python benchmarks/gpu_suite.py                               # on the GPU machine: results/gpu_suite_cuda.json
    python benchmarks/gpu_suite.py --smoke --out-dir /tmp/suite  # CPU, seconds
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path


from nasbench_eval._json import write_json
from nasbench_eval.provenance import provenance

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
STAGE1 = ("rsps", "darts", "gdas", "snas", "drnas", "darts_minus")


def steps(smoke: bool, device: str, out: Path) -> list[tuple[str, list[str], int, Path | None]]:
    """(name, argv after `python`, time limit in seconds, JSON the step writes) for every step."""
    if smoke:
        throughput = ["--archs", "2", "--seq-archs", "1", "--ntk-archs", "1", "--tiny", "--no-profile"]
        correlate = [("correlate_1000", ["--metrics", "synflow,lr", "--sample", "4"])]
        stage1 = ["--epochs", "1", "--train-images", "64", "--valid-images", "64", "--channels", "2", "--cells", "1",
                  "--batch-size", "32", "--sample", "4", "--eval-images", "64", "--bn-batches", "1"]
        spider = ["--tiny"]
        limits = {"gpu_tests": 120, "engine_throughput": 120, "correlate_1000": 120, "stage1_one_epoch": 180,
                  "spidernet_short": 180}
    else:
        throughput = ["--archs", "1000", "--seq-archs", "50", "--ntk-archs", "200", "--no-profile"]
        correlate = [("correlate_1000", ["--metrics", "naswot,synflow,lr,jacov", "--sample", "1000"]),
                     ("correlate_ntk_200", ["--metrics", "ntk", "--sample", "200"])]
        stage1 = ["--epochs", "1", "--sample", "100"]
        spider = ["--cycles", "1", "--final-epochs", "1"]
        limits = {"gpu_tests": 60, "engine_throughput": 150, "correlate_1000": 60, "correlate_ntk_200": 60,
                  "stage1_one_epoch": 90, "spidernet_short": 60}
    bench = ROOT / "benchmarks"
    tag = "smoke" if smoke else device.split(":")[0]
    tests = ROOT / "tests" / ("test_engine.py" if smoke else "")      # smoke: one gpu-marked file, same path
    plan = [("gpu_tests", ["-m", "pytest", "-q", "-m", "gpu", str(tests), "-p", "no:cacheprovider"], None)]
    json_path = out / f"proxy_throughput_{tag}.json"
    plan.append(("engine_throughput", [str(bench / "proxy_throughput.py"), "--device", device, *throughput,
                                       "--out", str(json_path)], json_path))
    for name, args in correlate:
        json_path = out / f"{name}_{tag}.json"
        plan.append((name, [str(bench / "correlation_table.py"), *args, "--device", device, "--out", str(json_path)],
                     json_path))
    json_path = out / f"stage1_one_epoch_{tag}.json"
    plan.append(("stage1_one_epoch", [str(bench / "stage1_methods.py"), "--methods", *STAGE1, *stage1,
                                      "--device", device, "--out", str(json_path)], json_path))
    json_path = out / f"spidernet_short_{tag}.json"
    plan.append(("spidernet_short", [str(bench / "spidernet_table2.py"), *spider, "--device", device,
                                     "--runs-dir", str(out / "spidernet_runs"), "--out", str(json_path)], json_path))
    return [(name, argv, limits[name], path) for name, argv, path in plan]


def run_step(name: str, argv: list[str], limit: int, json_path: Path | None, env: dict, cwd: Path) -> dict:
    """Run one step in `cwd` (its score stores and run folders go there); its record (command, seconds, exit
    status, output tail, the JSON it wrote)."""
    start = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, *argv], cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=limit)
        rc, tail = proc.returncode, (proc.stdout + proc.stderr)[-2000:]
    except subprocess.TimeoutExpired as err:
        rc, tail = "timeout", ((err.stdout or b"").decode(errors="replace") + (err.stderr or b"").decode(
            errors="replace"))[-2000:]
    record = {"step": name, "command": "python " + " ".join(argv), "seconds": round(time.perf_counter() - start, 1),
              "limit_seconds": limit, "returncode": rc, "output_tail": tail}
    if json_path is not None and json_path.exists():
        record["json"] = str(json_path.relative_to(ROOT) if json_path.is_relative_to(ROOT) else json_path)
        record["result"] = json.loads(json_path.read_text())
    print(json.dumps({k: v for k, v in record.items() if k not in ("result", "output_tail")}), file=sys.stderr)
    return record


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="same steps on the CPU at tiny sizes (numbers mean nothing)")
    p.add_argument("--device", default=None, help="default: cuda (cpu with --smoke)")
    p.add_argument("--out-dir", default=None, help="where the steps' JSON go (default benchmarks/results/gpu_suite)")
    p.add_argument("--only", default=None, help="comma-separated step names to run (default: all)")
    args = p.parse_args(argv)
    device = args.device or ("cpu" if args.smoke else "cuda")
    if not args.smoke and not device.startswith("cuda"):
        print(f"gpu_suite: --device={device!r} needs --smoke; the full suite runs on a CUDA device.", file=sys.stderr)
        return 2
    out = Path(args.out_dir) if args.out_dir else RESULTS / "gpu_suite"
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    only = set(args.only.split(",")) if args.only else None
    started = time.perf_counter()
    records = [run_step(*step, env, out) for step in steps(args.smoke, device, out) if only is None or step[0] in only]
    throughput = next((r.get("result", {}) for r in records if r["step"] == "engine_throughput"), {})
    summary = {
        "benchmark": "gpu_suite", "smoke": args.smoke, **provenance(device),
        "wall_seconds": round(time.perf_counter() - started, 1),
        "all_steps_ok": all(r["returncode"] == 0 for r in records),
        "full_space_seconds": throughput.get("full_space_seconds"),
        "full_space_note": throughput.get("full_space_note"),
        "engine_speedup": {r["proxy"]: r["speedup"] for r in throughput.get("proxies", [])},
        "steps": records,
    }
    path = out / f"gpu_suite_{'smoke' if args.smoke else device.split(':')[0]}.json"
    write_json(path, summary)
    print(path)
    return 0 if summary["all_steps_ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
