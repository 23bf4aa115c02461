"""Every GPU figure the README quotes, in one run of at most ~8 minutes on one H100/H200, as JSON.

Steps, in priority order (each a subprocess running the repository's own script, so the suite measures exactly
what a user runs; each has a time limit, and its record keeps the command, wall seconds, exit status and the
JSON it wrote). Sizes are in `SIZES`:

1. ``gpu_tests``: the ``gpu``-marked tests (``pytest -m gpu``).
2. ``ntk_device_check``: `benchmarks/ntk_device_check.py`, the NTK of 2 archs whose CPU and CUDA ntk_cond
   disagreed most, computed in float32/float64 on both devices and with TF32 switched off through the new API;
   ``ntk_rows``: `benchmarks/ntk_rows.py`, NTK rows by the per-row backward loop vs one vmap'ed backward.
3. ``correlate_1000_<proxy>``: `benchmarks/correlation_table.py` (the CLI's ``correlate``) on 1,000 archs for
   nwot, synflow, lr_count and jacob_cov, one step each.
4. ``engine_throughput``: `benchmarks/proxy_throughput.py`, the batched engine on 1,000 archs per core proxy
   (20 for ntk_cond, which is never grouped) against one arch at a time on the first 50, with the speedup, and
   ``full_space_seconds``: grouped seconds per arch measured there times 15,625 archs, summed over the 4 core
   proxies (an extrapolation, stated in the JSON's ``full_space_note``).
5. ``correlate_200_ntk``: the same for ntk_cond on 200 archs.
6. ``stage1_one_epoch``: `benchmarks/stage1_methods.py`, one epoch of each Stage-1 method on 5,000 + 5,000
   images.
7. ``spidernet_short``: `benchmarks/spidernet_table2.py`, a short SpiderNet run (one cycle, one final epoch).

``--budget S`` caps the whole suite at S seconds (a device lease is short): each step's limit is cut to what is
left, and the steps that no longer fit are recorded as skipped. The suite's JSON is rewritten after every step.
All steps together take longer than one 15-minute lease (the H200 run of 2026-11-30: `results/gpu_suite/`);
``--only`` runs the ones a previous lease did not reach.

``--smoke`` runs the same steps and scripts on the CPU at tiny sizes (small networks, a few archs, tiny images;
correlate scores synflow and lr_count on 4 archs) in well under a minute, so the suite is known to work before GPU
time is spent on it; its numbers mean nothing.

    python benchmarks/gpu_suite.py --budget 470                  # on the GPU machine: results/gpu_suite_cuda.json
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
MIN_STEP_SECONDS = 15
STAGE1 = ("rsps", "darts", "gdas", "snas", "drnas", "darts_minus")


SIZES = {   # per mode: (args, time limit in seconds) per step kind
    "smoke": {
        "gpu_tests": ([], 120),
        "ntk_device_check": (["--smoke"], 120),
        "ntk_rows": (["--tiny", "--archs", "1", "--batch", "8"], 120),
        "correlate": ([("synflow", "4"), ("lr", "4")], 120),
        "engine_throughput": (["--archs", "2", "--seq-archs", "1", "--ntk-archs", "1", "--tiny", "--no-profile"], 120),
        "correlate_ntk": ([], 0),
        "stage1_one_epoch": (["--epochs", "1", "--train-images", "64", "--valid-images", "64", "--channels", "2",
                              "--cells", "1", "--batch-size", "32", "--sample", "4", "--eval-images", "64",
                              "--bn-batches", "1"], 180),
        "spidernet_short": (["--tiny"], 180),
    },
    "full": {
        "gpu_tests": ([], 90),
        "ntk_device_check": (["--archs", "2"], 120),
        "ntk_rows": (["--archs", "5"], 90),
        "correlate": ([("naswot", "1000"), ("synflow", "1000"), ("lr", "1000"), ("jacov", "1000")], 60),
        "engine_throughput": (["--archs", "1000", "--seq-archs", "50", "--ntk-archs", "20", "--no-profile"], 120),
        "correlate_ntk": ([("ntk", "200")], 270),           # 234 s on an H200
        "stage1_one_epoch": (["--epochs", "1", "--train-images", "5000", "--valid-images", "5000", "--sample",
                              "100"], 150),                    # 3 of 6 methods took 74 s on an H200
        "spidernet_short": (["--cycles", "1", "--final-epochs", "1"], 60),
    },
}


def steps(smoke: bool, device: str, out: Path) -> list[tuple[str, list[str], int, Path | None]]:
    """(name, argv after `python`, time limit in seconds, JSON the step writes) for every step, in priority
    order: when `--budget` runs out, the last steps are the ones skipped. Each correlate proxy is a step of its
    own, so a proxy that runs out of time loses only its own figure."""
    size = SIZES["smoke" if smoke else "full"]
    tag = "smoke" if smoke else device.split(":")[0]
    bench = ROOT / "benchmarks"
    tests = ROOT / "tests" / ("test_engine.py" if smoke else "")      # smoke: one gpu-marked file, same path

    def step(name: str, script: str, args: list[str], limit: int, extra=()):
        json_path = out / f"{name}_{tag}.json"
        return (name, [str(bench / script), *args, "--device", device, *extra, "--out", str(json_path)], limit,
                json_path)

    def correlate(kind: str) -> list:
        pairs, limit = size[kind]
        return [step(f"correlate_{n}_{m}", "correlation_table.py", ["--metrics", m, "--sample", n], limit)
                for m, n in pairs]

    # a test module whose imports are missing on the GPU image (nbformat, ray) must not stop the gpu tests
    pytest_args = ["-m", "pytest", "-q", "-m", "gpu", str(tests), "-p", "no:cacheprovider",
                   "--continue-on-collection-errors"]
    return [
        ("gpu_tests", pytest_args, size["gpu_tests"][1], None),
        step("ntk_device_check", "ntk_device_check.py", *size["ntk_device_check"]),
        step("ntk_rows", "ntk_rows.py", *size["ntk_rows"]),
        *correlate("correlate"),
        step("engine_throughput", "proxy_throughput.py", *size["engine_throughput"]),
        *correlate("correlate_ntk"),                                   # ntk_cond: the slow one, after the engine
        step("stage1_one_epoch", "stage1_methods.py", ["--methods", *STAGE1, *size["stage1_one_epoch"][0]],
             size["stage1_one_epoch"][1]),
        step("spidernet_short", "spidernet_table2.py", *size["spidernet_short"],
             extra=("--runs-dir", str(out / "spidernet_runs"))),
    ]


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


def summarize(records: list[dict], smoke: bool, device: str, seconds: float, skipped: list[str]) -> dict:
    """The suite's JSON: provenance, the headline figures, and every step's record."""
    throughput = next((r.get("result", {}) for r in records if r["step"] == "engine_throughput"), {})
    return {
        "benchmark": "gpu_suite", "smoke": smoke, **provenance(device),
        "wall_seconds": round(seconds, 1),
        "all_steps_ok": not skipped and all(r["returncode"] == 0 for r in records),
        "skipped_for_budget": skipped,
        "full_space_seconds": throughput.get("full_space_seconds"),
        "full_space_note": throughput.get("full_space_note"),
        "engine_speedup": {r["proxy"]: r["speedup"] for r in throughput.get("proxies", [])},
        "steps": records,
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="same steps on the CPU at tiny sizes (numbers mean nothing)")
    p.add_argument("--device", default=None, help="default: cuda (cpu with --smoke)")
    p.add_argument("--out-dir", default=None, help="where the steps' JSON go (default benchmarks/results/gpu_suite)")
    p.add_argument("--only", default=None, help="comma-separated step names to run (default: all)")
    p.add_argument("--budget", type=float, default=None,
                   help="seconds for the whole suite: each step's limit is cut to what is left, and a step with "
                        f"under {MIN_STEP_SECONDS} s left is skipped (recorded as such)")
    args = p.parse_args(argv)
    device = args.device or ("cpu" if args.smoke else "cuda")
    if not args.smoke and not device.startswith("cuda"):
        print(f"gpu_suite: --device={device!r} needs --smoke; the full suite runs on a CUDA device.", file=sys.stderr)
        return 2
    out = Path(args.out_dir) if args.out_dir else RESULTS / "gpu_suite"
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    only = set(args.only.split(",")) if args.only else None
    path = out / f"gpu_suite_{'smoke' if args.smoke else device.split(':')[0]}.json"
    started = time.perf_counter()
    records, skipped = [], []
    for name, argv_, limit, json_path in steps(args.smoke, device, out):
        if only is not None and name not in only:
            continue
        left = None if args.budget is None else args.budget - (time.perf_counter() - started)
        if left is not None and left < MIN_STEP_SECONDS:
            skipped.append(name)
            continue
        records.append(run_step(name, argv_, int(limit if left is None else min(limit, left)), json_path, env, out))
        # written after every step: a suite killed from outside still leaves what finished
        write_json(path, summarize(records, args.smoke, device, time.perf_counter() - started, skipped))
    summary = summarize(records, args.smoke, device, time.perf_counter() - started, skipped)
    write_json(path, summary)
    print(path)
    return 0 if summary["all_steps_ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
