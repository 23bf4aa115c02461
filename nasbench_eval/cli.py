"""The `nasbench-eval` command line: a thin layer over the library.

Each subcommand lives in `nasbench_eval/commands/<name>.py` and provides
``add_arguments(parser)``, ``run(args) -> dict`` (the JSON-able result) and
``format_text(result) -> str`` (what a person reads); its one-line help is in `COMMANDS`. Only the
module of the command being run is imported, so ``--help`` and ``query`` need no torch. With
``--json`` the command prints exactly one JSON object on stdout.

Exit codes: 0 done; 2 bad input, missing or damaged data, or a file that cannot be read or written
(a NasBenchEvalError or an OSError: one line on stderr naming what was wrong and what is accepted);
1 an unexpected error, which is a bug: one line on stderr, the traceback only with
``NASBENCH_EVAL_TRACEBACK=1``; 130 interrupted (finished work is kept).
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from ._json import dumps
from .allocator import keep_freed_memory
from .exceptions import NasBenchEvalError

COMMANDS = {
    "info": "versions, compute device, and where the benchmark tables and images were found",
    "query": "ground-truth accuracy and benchmark index of one architecture (index or official string)",
    "data": "register datasets you have (add), convert official NATS-Bench / NAS-Bench-201 files (import), list what "
            "is found (info)",
    "correlate": "score architectures at init and correlate the scores with benchmark accuracy",
    "score": "score architectures (resumable, into the score store) and export a CSV table",
    "improvement": "improvement curve: mean ground truth of the archs kept after discarding the predicted-worst",
    "recall": "recall of the true top architectures by each score's top set, across test-error thresholds",
    "mass": "probability mass a per-edge architecture distribution puts on better archs, vs the uniform sampler",
    "reproduce": "reproduce a published table or a trained experiment (list them with --list) and compare our numbers "
                 "with the paper's",
    "stage1": "train an NB201 supernet with a Stage-1 method (rsps, rsps_biased, darts, darts_minus, gdas, snas, "
              "drnas, spos)",
    "stage1_eval": "evaluate Stage-1 runs: Kendall tau, improvement, top-arch recall, sampling mass, self-consistency",
    "stage2": "Stage-2: select an architecture from a Stage-1 run (prune, valid, synflow, jacob_cov, perturb)",
    "spidernet": "grow, train and test a SpiderNet on CIFAR-10 (Geada & McGough, Algorithm 2) or a Table 1 random "
                 "ablation",
}
"""Subcommand module in nasbench_eval.commands -> its one-line help; the CLI name spells "_" as "-"."""


class UsageError(NasBenchEvalError):
    """Bad command-line syntax (reported like any other bad input: one line, exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of usage + message, and no SystemExit traceback path
        raise UsageError(f"{self.prog}: {message} (see --help)")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser: every subcommand with its help line; only `command`'s module (CLI spelling) is
    imported and its options added."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="data folder searched first (default order: $NASBENCH_EVAL_DATA, ./data, "
                                           "the per-user data folder, then the data inside the package)")
    common.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")
    parser = _Parser(prog="nasbench-eval", description="Evaluate NAS methods on NAS-Bench-201 / NATS-Bench.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, help_line in COMMANDS.items():
        p = sub.add_parser(name.replace("_", "-"), help=help_line, description=help_line, parents=[common])
        if name.replace("_", "-") == command:
            module = importlib.import_module(f".commands.{name}", __package__)
            module.add_arguments(p)
            p.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 2 bad input or missing data)."""
    keep_freed_memory()
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv[0] if argv else None)
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        result = args._module.run(args)
        if args.json:
            print(dumps(result))
        else:
            print(args._module.format_text(result))
        return 0
    except NasBenchEvalError as err:
        _error(str(err))
        return 2
    except OSError as err:  # a file the user named or the environment provides (permissions, disk full ...)
        where = f" {str(err.filename)!r}" if err.filename else ""
        _error(f"cannot read or write{where}: {err.strerror or err}; check the path, its permissions and free space.")
        return 2
    except MemoryError:
        _error("out of memory; use smaller sizes (--sample, --batch-size, --n-boot, --group-size ...).")
        return 2
    except KeyboardInterrupt:
        print(
            "nasbench-eval: interrupted; finished work is kept (score store, run directory), rerun the same command to "
            "resume.",
            file=sys.stderr,
        )
        return 130
    except Exception as err:  # last line of defence: a bug is reported in one line, not a traceback
        if os.environ.get("NASBENCH_EVAL_TRACEBACK"):
            raise
        _error(f"internal error (a bug, please report it): {type(err).__name__}: {err}; "
               "rerun with NASBENCH_EVAL_TRACEBACK=1 to see the traceback.")
        return 1


def _error(message: str) -> None:
    """Print `message` as one line on stderr (embedded newlines would make a multi-line error)."""
    print("nasbench-eval: error: " + " ".join(message.split()), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
