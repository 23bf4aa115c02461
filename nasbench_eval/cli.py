"""The `nasbench-eval` command line: a thin layer over the library.

Each subcommand lives in `nasbench_eval/commands/<name>.py` and provides
``HELP`` (one line), ``add_arguments(parser)``, ``run(args) -> dict`` (the JSON-able result) and
``format_text(result) -> str`` (what a person reads). With ``--json`` the command prints exactly
one JSON object on stdout. A NasBenchEvalError (bad input, missing data) becomes one line on
stderr and exit code 2; any other exception is a bug and keeps its traceback.
"""
from __future__ import annotations

import argparse
import importlib
import json
import math
import sys

import numpy as np

from .exceptions import NasBenchEvalError

COMMANDS = ("info", "query", "data", "correlate", "score", "improvement", "recall", "mass", "reproduce")
"""Subcommand names, each a module in nasbench_eval.commands (missing modules are skipped)."""


class UsageError(NasBenchEvalError):
    """Bad command-line syntax (reported like any other bad input: one line, exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of usage + message, and no SystemExit traceback path
        raise UsageError(f"{self.prog}: {message} (see --help)")


def _json_default(obj):
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def _clean(obj):
    """Replace NaN/inf (not valid JSON) by None, recursively."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="folder holding nb201/, cifar10/ ... (default: $NASBENCH_EVAL_DATA, ./data, ../shared/data)")
    common.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")
    parser = _Parser(prog="nasbench-eval", description="Evaluate NAS methods on NAS-Bench-201 / NATS-Bench.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f".commands.{name}", __package__)
        except ModuleNotFoundError as err:
            if err.name == f"{__package__}.commands.{name}":
                continue
            raise
        p = sub.add_parser(name, help=module.HELP, description=module.HELP, parents=[common])
        module.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 2 bad input or missing data)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        result = args._module.run(args)
        if args.json:
            print(json.dumps(_clean(result), default=_json_default))
        else:
            print(args._module.format_text(result))
        return 0
    except NasBenchEvalError as err:
        print(f"nasbench-eval: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nasbench-eval: interrupted; finished work is kept in the score store, rerun to resume.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
