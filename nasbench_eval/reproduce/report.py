"""The one report writer of every reproduction (`write`), and the markdown / CSV renderers of the benchmark tables."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .._json import write_json
from .base import Reproduction
from .runner import DECIMALS

LABELS = {"accuracy": "acc", "score": "score", "kendall_tau": "tau"}
SHORT = {"n_samples": "N", "n_evaluations": "evals", "population_size": "P", "tournament_size": "S", "n_archs": "archs"}


def _setting(params: dict) -> str:
    """``"N=8"``, ``"evals=16 P=6 S=3"``, ``"archs=all"``; "—" for none."""
    if not params:
        return "—"
    return " ".join(f"{SHORT.get(k, k)}={'all' if v is None else v}" for k, v in params.items())


def _num(value, quantity: str) -> str:
    return "—" if value is None else f"{value:+.{DECIMALS.get(quantity, 2)}f}"


def _cell(d: dict | None) -> str:
    return "—" if d is None else d["text"]


def _status(row: dict) -> str:
    if row["status"] == "ok":
        return "ok"
    return f"{row['status']}: {row['reason']}" if row.get("reason") else row["status"]


def _has_sampled(result: dict) -> bool:
    return any("sampled" in r for r in result["rows"])


def markdown(result: dict) -> str:
    """The table as markdown: ours (mean ± std over seeds) beside the published numbers and the difference."""
    qs = result["quantities"]
    head = ["row", "method", "target", "setting", "seeds"]
    for q in qs:
        head += [f"{LABELS.get(q, q)} published", f"{LABELS.get(q, q)} ours", f"{LABELS.get(q, q)} Δ"]
    sampled = _has_sampled(result)
    if sampled:
        head += [f"all sampled {LABELS.get(q, q)}" for q in qs]
    head.append("status")
    lines = [f"## {result['table']}: {result['title']}", "", f"{result['paper']}, {result['source']}.", ""]
    if result["quick"]:
        lines += [f"**{result['warning']}**", ""]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in result["rows"]:
        cells = [row["key"], row["method"], row["target"], _setting(row["params"]), str(row["n_seeds"])]
        for q in qs:
            cells += [_cell(row["published"][q]), _cell(row["ours"][q]), _num(row["diff"][q], q)]
        if sampled:
            cells += [_cell(row.get("sampled", {}).get(q)) for q in qs]
        cells.append(_status(row))
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    lines += ["", "Notes:"] + [f"- {n}" for n in result["notes"]]
    lines += ["", "Sources of the published numbers:"]
    lines += sorted({f"- {p['source']}" for r in result["rows"] for p in r["published"].values() if p})
    if "provenance" in result:
        prov = result["provenance"]
        lines += [
            "",
            f"Run: {prov['date']} on {prov['device']}, torch {prov['torch']}, commit {prov['git_commit']}: "
            f"`{prov['command']}`",
        ]
    return "\n".join(lines) + "\n"


def _flat(row: dict, result: dict) -> dict:
    out = {"table": result["table"], "quick": result["quick"], "key": row["key"], "method": row["method"],
           "kind": row["kind"], "target": row["target"], "proxy": row["proxy"], "params": json.dumps(row["params"]),
           "n_seeds": row["n_seeds"], "status": row["status"], "reason": row["reason"]}
    for q in result["quantities"]:
        pub, ours, samp = row["published"][q], row["ours"][q], row.get("sampled", {}).get(q)
        out[f"published_{q}_mean"], out[f"published_{q}_std"] = (pub["mean"], pub["std"]) if pub else (None, None)
        out[f"ours_{q}_mean"], out[f"ours_{q}_std"] = (ours["mean"], ours["std"]) if ours else (None, None)
        out[f"diff_{q}"] = row["diff"][q]
        out[f"sampled_{q}_mean"], out[f"sampled_{q}_std"] = (samp["mean"], samp["std"]) if samp else (None, None)
    return out


def to_frame(result: dict) -> pd.DataFrame:
    """One line per row: published, ours and difference per quantity (mean and std columns)."""
    return pd.DataFrame([_flat(r, result) for r in result["rows"]])


def write(rep: Reproduction, result: dict, out_dir) -> dict:
    """Write ``<name>.md``, ``<name>.csv`` and ``<name>.json`` of `rep` to `out_dir` (created).

    Sets ``result["files"]`` (these paths, then the figures in ``result["figures"]``) before writing, so the
    JSON lists them too; returns it.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {"markdown": out / f"{rep.name}.md", "csv": out / f"{rep.name}.csv", "json": out / f"{rep.name}.json"}
    result["files"] = {**{k: str(v) for k, v in files.items()}, **result.get("figures", {})}
    files["markdown"].write_text(rep.markdown(result))
    rep.frame(result).to_csv(files["csv"], index=False)
    write_json(files["json"], result)
    return result["files"]
