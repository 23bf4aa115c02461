"""What every reproduction shares: the `Reproduction` record, its run context, the quick-run warning,
``stat`` (mean ± std over seeds), and the parts of a report (header, notes, sources, provenance).

Benchmark-only tables (`runner`, `published`) and reproductions that train supernets (`pup_table2`,
`interchoice`) are both `Reproduction` s in the one registry, `catalog.REPRODUCTIONS`."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._validation import check_int
from ..metrics import format_mean_std, mean_std

QUICK_WARNING = ("QUICK RUN: fewer seeds and CPU-sized settings (smaller N / budgets / populations, cheaper proxy "
                 "settings; for trained reproductions a few hundred images, 1-2 epochs, C=4, N=1, few samples); it "
                 "exercises the full path and is NOT comparable to the published numbers.")


@dataclass
class ReproductionContext:
    """Options of one reproduction run (the `reproduce` command's flags).

    Attributes
    ----------
    out : Path
        Report folder; the work (run directories, cached evaluations) goes to ``out / "work"``.
    device, data_dir
        Torch device (None: CUDA if available) and data folder.
    quick : bool
        CPU-sized settings, labelled NOT comparable.
    seeds : int or None
        Number of seeds (consecutive from the paper's first); None = the paper's (quick: fewer).
    epochs : int or None
        Trained reproductions: Stage-1 epochs for every supernet instead of the paper's; the report states
        the reduction. Tables train nothing and refuse it.
    store : path-like or None
        Tables: the score store SQLite file (None: ``$NASBENCH_EVAL_CACHE/scores.sqlite``).
    progress : bool
        tqdm bars on stderr.
    executor : nasbench_eval.executors.Executor or None
        Runs the work units: tables' scoring units; the trained experiments' trainings, Stage-1 evaluations
        and Stage-2 cells (None: this process).
    """

    out: Path
    device: object = None
    data_dir: object = None
    quick: bool = False
    seeds: int | None = None
    epochs: int | None = None
    store: object = None
    progress: bool = True
    executor: object = None

    def __post_init__(self):
        self.out = Path(self.out)
        if self.seeds is not None:
            self.seeds = check_int("--seeds", self.seeds, caller="reproduce", minimum=1)
        if self.epochs is not None:
            self.epochs = check_int("--epochs", self.epochs, caller="reproduce", minimum=1)

    @property
    def work(self) -> Path:
        """Folder of the resumable work."""
        return self.out / "work"

    def seed_list(self, paper_seeds: tuple[int, ...], *, quick: int) -> tuple[int, ...]:
        """`seeds` consecutive seeds from the paper's first; default the paper's count (`quick` in quick runs)."""
        n = self.seeds if self.seeds is not None else (min(quick, len(paper_seeds)) if self.quick else len(paper_seeds))
        return tuple(range(paper_seeds[0], paper_seeds[0] + n))


@dataclass(frozen=True)
class Reproduction:
    """A published table or figure we reproduce: how to run it and how to report it.

    Attributes
    ----------
    name, title, paper, source : str
        Registry key, what it reproduces, the paper and its table / figure.
    run : callable(ReproductionContext) -> dict
        Does the work (resumably) and returns the JSON-able result.
    markdown : callable(dict) -> str
        The report.
    frame : callable(dict) -> pandas.DataFrame
        The CSV: one line per compared number.
    spec : object, optional
        The table's rows and published numbers (`published.TableSpec`) for benchmark-only tables.
    """

    name: str
    title: str
    paper: str
    source: str
    run: Callable[[ReproductionContext], dict]
    markdown: Callable[[dict], str]
    frame: Callable[[dict], pd.DataFrame]
    spec: object = None


def reduction_note(ctx: ReproductionContext, paper_epochs: Mapping[str, int]) -> str | None:
    """What `--epochs` changed, e.g. ``"Stage-1 epochs: 10 instead of the paper's 100 (darts), 250 (rsps_biased)"``."""
    if ctx.epochs is None or ctx.quick:
        return None
    paper = ", ".join(f"{e} ({who})" for who, e in paper_epochs.items())
    return (f"REDUCED RUN: Stage-1 epochs {ctx.epochs} for every supernet instead of the paper's {paper}; "
            "not the published protocol.")


def header(exp: Reproduction, ctx: ReproductionContext, *, reduction: str | None, notes) -> dict:
    """The keys every trained reproduction result starts with."""
    return {"experiment": exp.name, "title": exp.title, "paper": exp.paper, "source": exp.source, "quick": ctx.quick,
            "warning": QUICK_WARNING if ctx.quick else None, "reduction": reduction, "epochs_override": ctx.epochs,
            "notes": list(notes)}


def stat(values, decimals: int = 2) -> dict:
    """``{"mean", "std", "n", "text"}`` over seeds or runs (ddof=0; NaN propagates; text: `format_mean_std`)."""
    ms = mean_std(np.asarray(values, dtype=np.float64))
    return {"mean": float(ms.mean), "std": float(ms.std), "n": ms.n, "text": format_mean_std(ms, decimals=decimals)}


def head_lines(result: dict) -> list[str]:
    """Title, paper and the quick / reduced-run banners."""
    lines = [f"## {result['experiment']}: {result['title']}", "", f"{result['paper']}, {result['source']}.", ""]
    for key in ("warning", "reduction"):
        if result.get(key):
            lines += [f"**{result[key]}**", ""]
    return lines


def tail_lines(result: dict, sources) -> list[str]:
    """Notes, the sources of the published numbers, and the provenance line."""
    lines = ["", "Notes:"] + [f"- {n}" for n in result["notes"]]
    lines += ["", "Sources of the published numbers:"] + [f"- {s}" for s in sorted(set(sources))]
    if "provenance" in result:
        p = result["provenance"]
        lines += [
            "",
            f"Run: {p['date']} on {p['device']}, torch {p['torch']}, commit {p['git_commit']}: `{p['command']}`",
        ]
    return lines


def md_table(head: list[str], rows: list[list[str]]) -> list[str]:
    """A markdown table (``|`` in cells escaped)."""
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return out + ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]


__all__ = ["QUICK_WARNING", "Reproduction", "ReproductionContext", "header", "head_lines", "md_table", "reduction_note",
           "stat", "tail_lines"]
