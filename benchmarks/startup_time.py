"""How fast the CLI answers: ``--help``, ``query 6111`` and ``create_benchmark("nb201")`` after import.

Each is run ``--repeats`` times in a fresh Python process from an empty folder with no data
folder set, so the package's own data is used. Reports the median CPU time (user + sys of the
child process: what the command costs, independent of how busy a shared machine is) and the
median wall time, which modules of torch / scipy / matplotlib / pandas each imported, and the
targets of issue 14 (CPU seconds): --help <= 0.5, query <= 1.0, create_benchmark <= 0.3.

    python benchmarks/startup_time.py [--repeats 5]
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nasbench_eval._json import write_json
from nasbench_eval.provenance import provenance

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "scipy", "matplotlib", "pandas")
_REPORT = f"import sys; print('HEAVY', *[m for m in {HEAVY!r} if m in sys.modules])"
CASES = {
    "help": (
        [
            "-c",
            f"import sys; sys.argv = ['nasbench-eval', '--help']\nfrom nasbench_eval.cli import main\n"
            f"try:\n    main()\nexcept SystemExit:\n    pass\n{_REPORT}",
        ],
        0.5,
    ),
    "query_6111": (
        ["-c", f"from nasbench_eval.cli import main; main(['query', '6111', '--dataset', 'cifar10']); {_REPORT}"],
        1.0,
    ),
}
CREATE = ("import time, nasbench_eval; t0, c0 = time.perf_counter(), time.process_time(); "
          "nasbench_eval.create_benchmark('nb201'); "
          f"print('CREATE', time.process_time() - c0, time.perf_counter() - t0); {_REPORT}")
CREATE_TARGET = 0.3


def _child(args: list[str], cwd: str, env: dict) -> tuple[float, float, str]:
    """(cpu seconds, wall seconds, stdout) of one fresh interpreter."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, out.stdout


def _heavy(stdout: str) -> list[str]:
    return next(line.split()[1:] for line in stdout.splitlines() if line.startswith("HEAVY"))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", default=str(RESULTS / "startup_time_cpu.json"))
    args = p.parse_args(argv)
    env = {k: v for k, v in os.environ.items() if k != "NASBENCH_EVAL_DATA"}
    env["PYTHONPATH"] = str(ROOT)
    results = {}
    with tempfile.TemporaryDirectory() as empty:
        env["XDG_DATA_HOME"] = str(Path(empty) / "xdg")
        for name, (child_args, target) in CASES.items():
            runs = [_child(child_args, empty, env) for _ in range(args.repeats)]
            cpu = statistics.median(r[0] for r in runs)
            results[name] = {
                "cpu_seconds": round(cpu, 3),
                "wall_seconds": round(statistics.median(r[1] for r in runs), 3),
                "target_cpu_seconds": target,
                "meets_target": cpu <= target,
                "heavy_modules_imported": _heavy(runs[0][2]),
            }
        runs = [_child(["-c", CREATE], empty, env)[2] for _ in range(args.repeats)]
        timings = [next(line.split()[1:] for line in out.splitlines() if line.startswith("CREATE")) for out in runs]
        cpu = statistics.median(float(t[0]) for t in timings)
        results["create_benchmark_after_import"] = {
            "cpu_seconds": round(cpu, 3), "wall_seconds": round(statistics.median(float(t[1]) for t in timings), 3),
            "target_cpu_seconds": CREATE_TARGET, "meets_target": cpu <= CREATE_TARGET,
            "heavy_modules_imported": _heavy(runs[0])}
    record = {"benchmark": "startup_time", **provenance("cpu"), "repeats": args.repeats,
              "load_average_1min": round(os.getloadavg()[0], 2), "results": results}
    write_json(Path(args.out), record)
    for name, r in results.items():
        print(
            f"{name:<32} cpu {r['cpu_seconds']:.3f} s  wall {r['wall_seconds']:.3f} s  target "
            f"{r['target_cpu_seconds']} s  "
            f"{'ok' if r['meets_target'] else 'MISSED'}  heavy: {r['heavy_modules_imported'] or 'none'}"
        )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
