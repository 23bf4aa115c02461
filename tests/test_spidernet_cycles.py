"""SpiderNet Algorithm 2: the cycle driver, deadheading in a cycle, Table 1 ablations, resume, CLI."""
from __future__ import annotations

import dataclasses
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from nasbench_eval.cli import main
from nasbench_eval.exceptions import InvalidParameterError
from nasbench_eval.executors.local import LocalExecutor
from nasbench_eval.spidernet import SpiderNet, mutation_bytes, param_bytes
from nasbench_eval.spidernet import cycles as cycles_mod
from nasbench_eval.spidernet.config import STRATEGIES, SpiderNetConfig
from nasbench_eval.spidernet.cycles import DeletionPlan, run_spidernet
from nasbench_eval.spidernet.graph import CellGraph
from nasbench_eval.spidernet.growth import Selection
from nasbench_eval.spidernet.pruners import PrunerLog
from nasbench_eval.spidernet.runs import SpiderNetUnit, run_spidernets
from nasbench_eval.spidernet.training import cutout, make_optimizer, measured_mutation_bytes, train_epoch
from nasbench_eval.train import DeviceSplit

TINY = SpiderNetConfig(
    cycles=1,
    mutations_per_cycle=1,
    epochs_per_cycle=1,
    final_epochs=1,
    C=2,
    reductions=1,
    batch_size=32,
    n_good=1,
    ntk_images=4,
    ntk_batches=1,
    lrc_patches=60,
    lrc_batches=1,
    eval_batch_size=64,
)
"""Small enough for one CPU thread: 2 cells at 2 and 4 channels, one epoch per phase, 4 NTK images."""


def _split(n: int, seed: int, hw: int = 16) -> DeviceSplit:
    g = torch.Generator().manual_seed(seed)
    return DeviceSplit(torch.randint(0, 256, (n, hw, hw, 3), generator=g, dtype=torch.uint8),
                       torch.randint(0, 10, (n,), generator=g), "cifar10")


@pytest.fixture(scope="module")
def data():
    return _split(64, 0), _split(32, 1)


def _strip_seconds(obj):
    if isinstance(obj, dict):
        return {k: _strip_seconds(v) for k, v in obj.items() if k != "seconds"}
    if isinstance(obj, list):
        return [_strip_seconds(v) for v in obj]
    return obj


# ---------------------------------------------------------------- end to end
def test_one_cycle_end_to_end(tmp_path, data):
    res = run_spidernet(tmp_path, config=TINY, data=data, device="cpu")
    s, model = res.summary, res.model
    for name in ("result.json", "architecture.json", "log.json", "cell_0.png", "cell_1.png",
                 "checkpoints/cycle_000.pt", "checkpoints/final.pt"):
        assert (tmp_path / name).is_file(), name
    assert (tmp_path / "cell_1.png").read_bytes()[:4] == b"\x89PNG"
    row = s["cycles"][0]
    assert row["ops_before"] == 5 * 7 and len(row["epochs"]) == 1 and row["epochs"][0]["batches"] == 2
    assert row["epochs"][0]["lr"] == TINY.lr                                 # cosine starts at the peak
    assert row["ops_after"] == row["ops_pruned"] + 14 * row["accepted"]  # a mutation adds 2 all-op edges
    assert len(row["mutations"]) == 1 and row["mutations"][0]["reason"] in (
        "ok",
        "no good mutation among the sampled edges",
    )
    arch = json.loads((tmp_path / "architecture.json").read_text())
    assert [CellGraph.from_dict(c["graph"]).edges for c in arch["cells"]] == [g.edges for g in model.graphs]
    x, y = data[1].batch(torch.arange(32))
    with torch.no_grad():
        acc = 100.0 * (model.eval()(x).argmax(1) == y).double().mean().item()
    assert s["test_acc"] == pytest.approx(acc)
    gates = sum(1 for n, _ in model.named_parameters() if n.endswith(".w"))
    assert s["n_params"] == sum(p.numel() for p in model.parameters()) - gates and gates == sum(
        g.n_ops() for g in model.graphs
    )
    assert s["memory"]["kind"] == "param_and_buffer_bytes" and s["memory"]["bytes"] > 0
    assert s["seconds"]["total"] == pytest.approx(
        s["seconds"]["search"] + s["seconds"]["final_training"] + s["seconds"]["test"]
    )
    assert DeletionPlan.from_run(tmp_path) == DeletionPlan((len(row["deadheaded"]),), 0)


def test_train_epoch_logs_the_gate_of_every_op_per_batch(data):
    net = SpiderNet(C=2, reductions=1, seed=0)
    off = {(0, 0, 1, "identity"), (1, 2, 3, "sep_conv_5x5")}
    for key, p in net.pruner_items():
        p.w.data.fill_(-1.0 if key in off else 0.01)
    opt = make_optimizer(net, lr=0.0, momentum=0.0, weight_decay=0.0)     # nothing moves: states are the ones set
    log = PrunerLog()
    row = train_epoch(net, opt, data[0], batch_size=16, generator=torch.Generator().manual_seed(0), log=log)
    assert row["batches"] == 4 and log.epochs_ended == 1
    assert log.history.keys() == set(net.op_keys())
    assert all(epochs == [[key not in off] * 4] for key, epochs in log.history.items())


# ---------------------------------------------------------------- deadheading in a cycle
def test_cycle_deadheads_exactly_the_ops_off_in_more_than_75_percent_of_batches(tmp_path, data):
    cfg = dataclasses.replace(TINY, mutations_per_cycle=0, epochs_per_cycle=2, final_epochs=0, batch_size=16,
                              pruner_lr=1.0, pruner_clamp=None)        # large gate steps, so gates do switch off
    res = run_spidernet(tmp_path, config=cfg, data=data, device="cpu")
    dead = {tuple(k) for k in res.summary["cycles"][0]["deadheaded"]}
    history = torch.load(tmp_path / "checkpoints" / "cycle_000.pt", weights_only=True)["pruner_history"]
    log = PrunerLog.from_state(history)
    initial = set(SpiderNet(C=2, reductions=1).op_keys())
    assert log.history.keys() == initial
    off_share = {
        k: sum(not on for e in epochs for on in e) / sum(len(e) for e in epochs) for k, epochs in log.history.items()
    }
    assert all(sum(len(e) for e in epochs) == 8 for epochs in log.history.values())   # 2 epochs x 4 batches
    assert dead == {k for k, f in off_share.items() if f > 0.75}
    assert 0 < len(dead) < len(initial)                                   # the rule had something to decide
    assert set(res.model.op_keys()) == initial - dead


def test_final_training_deadheads_after_each_epoch_once_the_window_is_full(tmp_path, data):
    cfg = dataclasses.replace(
        TINY, cycles=0, final_epochs=3, deadhead_window=2, batch_size=16, pruner_lr=1.0, pruner_clamp=None
    )
    res = run_spidernet(tmp_path, config=cfg, data=data, device="cpu")
    rows = res.summary["final"]["epochs"]
    assert "deadheaded" not in rows[0] and "deadheaded" in rows[1] and "deadheaded" in rows[2]   # window = 2 epochs
    dead = {tuple(k) for r in rows[1:] for k in r["deadheaded"]}
    assert dead and set(res.model.op_keys()) == set(SpiderNet(C=2, reductions=1).op_keys()) - dead
    opt = torch.load(tmp_path / "checkpoints" / "final.pt", weights_only=True)["optimizer"]
    # deleted ops left SGD
    assert sum(len(g["params"]) for g in opt["param_groups"]) == len(list(res.model.parameters()))
    assert DeletionPlan.from_run(tmp_path) == DeletionPlan((), len(dead))


# ---------------------------------------------------------------- ablations
@pytest.mark.parametrize("ablation", list(STRATEGIES))
def test_ablations_change_only_their_own_parts(ablation, tmp_path, data, monkeypatch):
    calls = {"select": 0, "random_edge": 0, "deleted": [], "train": []}
    plan = DeletionPlan((3, 2), 4)

    def fake_select(model, *a, **k):
        calls["select"] += 1
        return Selection(model.edge_ids()[0], "ok", ())

    def spy_random_edge(model, *, rng):
        calls["random_edge"] += 1
        return real_random_edge(model, rng=rng)

    def spy_delete(model, n, *, rng):
        calls["deleted"].append(n)
        return real_delete(model, n, rng=rng)

    def fake_train(model, opt, split, *, log=None, **kw):                  # records, trains nothing
        calls["train"].append((log is not None, len(opt.param_groups[1]["params"]) > 0))
        if log is not None:
            log.end_epoch()
        return {"loss": 0.0, "acc": 0.0, "batches": 0, "seconds": 0.0}

    real_random_edge, real_delete = cycles_mod.random_edge, cycles_mod.delete_random_ops
    monkeypatch.setattr(cycles_mod, "select_mutation", fake_select)
    monkeypatch.setattr(cycles_mod, "random_edge", spy_random_edge)
    monkeypatch.setattr(cycles_mod, "delete_random_ops", spy_delete)
    monkeypatch.setattr(cycles_mod, "train_epoch", fake_train)
    cfg = dataclasses.replace(TINY, cycles=2, mutations_per_cycle=2, final_epochs=2)
    res = run_spidernet(tmp_path, config=cfg, ablation=ablation, reference=plan, data=data, device="cpu")
    st = STRATEGIES[ablation]
    guided = st.mutation == "ntk_lrc"
    assert (calls["select"], calls["random_edge"]) == ((4, 0) if guided else (0, 4))  # 2 cycles x 2 attempts
    expect_deleted = (list(plan.per_cycle) if st.inter_cycle == "random" else []) + (
        [plan.final] if st.intra_train == "random" else []
    )
    assert calls["deleted"] == expect_deleted
    cycle_train = [(True, True)] * 2 if st.inter_cycle == "deadhead" else []          # 2 cycles x 1 epoch, gates learn
    gates = st.intra_train == "pruners"
    assert calls["train"] == cycle_train + [(gates, gates)] * 2                        # final: gates learn iff pruners
    for c, row in enumerate(res.summary["cycles"]):
        assert len(row["deleted"]) == (plan.per_cycle[c] if st.inter_cycle == "random" else 0)
        assert row["accepted"] == 2
    assert all(p.w.requires_grad == gates for _, p in res.model.pruner_items())


def test_random_ablations_need_a_spidernet_reference(tmp_path, data):
    with pytest.raises(InvalidParameterError, match="reference"):
        run_spidernet(tmp_path, config=TINY, ablation="random1", data=data, device="cpu")
    with pytest.raises(InvalidParameterError, match="cycles"):
        run_spidernet(tmp_path, config=dataclasses.replace(TINY, cycles=3), ablation="random4",
                      reference=DeletionPlan((1, 1), 0), data=data, device="cpu")


def test_memory_budget_rejects_every_mutation(tmp_path, data):
    cfg = dataclasses.replace(TINY, cycles=2, mutations_per_cycle=3, final_epochs=0, vram_gb=1e-6)   # ~1 KiB
    s = run_spidernet(tmp_path, config=cfg, ablation="random2", data=data, device="cpu").summary
    for row in s["cycles"]:
        assert [m["edge"] for m in row["mutations"]] == [None]                # first rejection ends the cycle
        assert row["mutations"][0]["bytes_needed"] >= 2**30 * 1e-6 and row["ops_after"] == row["ops_before"] == 35


# ---------------------------------------------------------------- resume
def test_resume_after_interruptions_equals_an_uninterrupted_run(tmp_path, data, monkeypatch):
    cfg = dataclasses.replace(TINY, cycles=2, final_epochs=2, ntk_images=2)
    ref = run_spidernet(tmp_path / "a", config=cfg, data=data, device="cpu")

    real_cycle, real_train = cycles_mod._Run.cycle, cycles_mod.train_epoch

    def cycle_then_stop(self, c, graphs):
        if c == 1:
            raise KeyboardInterrupt
        return real_cycle(self, c, graphs)

    monkeypatch.setattr(cycles_mod._Run, "cycle", cycle_then_stop)
    with pytest.raises(KeyboardInterrupt):
        run_spidernet(tmp_path / "b", config=cfg, data=data, device="cpu")
    monkeypatch.setattr(cycles_mod._Run, "cycle", real_cycle)
    count = {"n": 0}

    def train_then_stop(*a, **k):                  # resumed at cycle 1: 1 cycle epoch, then final epoch 0 runs, 1 stops
        count["n"] += 1
        if count["n"] == 3:
            raise KeyboardInterrupt
        return real_train(*a, **k)

    monkeypatch.setattr(cycles_mod, "train_epoch", train_then_stop)
    with pytest.raises(KeyboardInterrupt):
        run_spidernet(tmp_path / "b", config=cfg, data=data, device="cpu")
    assert torch.load(tmp_path / "b" / "checkpoints" / "final.pt", weights_only=True)["rng"]["next_epoch"] == 1
    monkeypatch.setattr(cycles_mod, "train_epoch", real_train)
    res = run_spidernet(tmp_path / "b", config=cfg, data=data, device="cpu")
    assert res.summary["test_acc"] == ref.summary["test_acc"]
    assert _strip_seconds(res.summary["cycles"]) == _strip_seconds(ref.summary["cycles"])
    assert _strip_seconds(res.summary["final"]) == _strip_seconds(ref.summary["final"])
    a, b = ref.model.state_dict(), res.model.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(InvalidParameterError, match="seed"):                 # another run's checkpoints
        run_spidernet(tmp_path / "b", config=cfg, data=data, device="cpu", seed=1)


# ---------------------------------------------------------------- several runs through an executor
def _comparable(summary: dict, folder) -> dict:
    """A summary without wall times and provenance, its file paths relative to the run's own folder."""
    return json.loads(json.dumps(_strip_seconds({k: v for k, v in summary.items() if k != "provenance"}))
                      .replace(str(folder), "RUN"))


def _final_weights(folder) -> dict:
    return torch.load(folder / "checkpoints" / "final.pt", weights_only=True)["state_dict"]


ABLATIONS = ("spidernet", "random1", "random2")
"""random1 copies spidernet's deadhead counts: it waits for that run (the second round)."""


def _units(root, data, ablations=ABLATIONS):
    return [SpiderNetUnit(str(root / a), TINY, a, reference=str(root / "spidernet") if a == "random1" else None,
                          device="cpu", data=data) for a in ablations]


class StopAfter(LocalExecutor):
    """Two workers that stop like Ctrl-C once `n` units of a run have finished (the others are killed mid-run)."""

    def __init__(self, n: int):
        super().__init__(workers=2, threads=1)
        self.n, self.given = n, []

    def run(self, fn, payloads):
        self.given += [Path(u.target).name for u in payloads]
        for k, item in enumerate(super().run(fn, payloads)):
            if k == self.n:
                raise KeyboardInterrupt
            yield item


@pytest.fixture(scope="module")
def in_process(data, tmp_path_factory):
    root = tmp_path_factory.mktemp("in_process")
    return root, run_spidernets(_units(root, data), executor=LocalExecutor(workers=1, threads=1))


def test_runs_in_two_workers_equal_the_in_process_runs_bit_for_bit(in_process, data, tmp_path):
    root, want = in_process
    with LocalExecutor(workers=2, threads=1) as pool:
        got = run_spidernets(_units(tmp_path, data), executor=pool)
    for a, g, w in zip(ABLATIONS, got, want):
        assert g["ablation"] == a and _comparable(g, tmp_path / a) == _comparable(w, root / a)
        assert json.loads((tmp_path / a / "result.json").read_text()) == json.loads(json.dumps(g))  # the driver's
        assert g["files"]["result"] == str(tmp_path / a / "result.json")
        wa, wb = _final_weights(root / a), _final_weights(tmp_path / a)
        assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(ABLATIONS)  # no .partial left
    assert got[1]["plan"] == {"per_cycle": [len(want[0]["cycles"][0]["deadheaded"])],
                              "final": sum(len(e.get("deadheaded", [])) for e in want[0]["final"]["epochs"])}


def test_interrupted_runs_resume_without_recomputing_finished_ones(in_process, data, tmp_path):
    root, want = in_process
    stopped = StopAfter(1)
    with pytest.raises(KeyboardInterrupt):
        run_spidernets(_units(tmp_path, data), executor=stopped)
    finished = [a for a in ABLATIONS if (tmp_path / a / "result.json").is_file()]
    assert len(finished) == 1 and stopped.given == ["spidernet", "random2"]    # random1 waits for spidernet
    before = {a: (tmp_path / a / "result.json").stat().st_mtime_ns for a in finished}
    again = StopAfter(99)
    got = run_spidernets(_units(tmp_path, data), executor=again)
    assert not set(again.given) & set(finished) and len(again.given) == 2
    assert {a: (tmp_path / a / "result.json").stat().st_mtime_ns for a in finished} == before
    for a, g, w in zip(ABLATIONS, got, want):
        assert _comparable(g, tmp_path / a) == _comparable(w, root / a)
        wa, wb = _final_weights(root / a), _final_weights(tmp_path / a)
        assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_a_target_holding_other_files_is_refused_before_any_run(tmp_path, data):
    (tmp_path / "spidernet").mkdir()
    (tmp_path / "spidernet" / "notes.txt").write_text("mine")
    with pytest.raises(InvalidParameterError, match="holds files of no finished run"):
        run_spidernets(_units(tmp_path, data))
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["notes.txt", "spidernet"]


def test_cli_runs_ablations_and_seeds_in_parallel(tmp_path, fake_cifar, capsys):
    args = ["spidernet", "--cycles", "1", "--mutations-per-cycle", "1", "--epochs-per-cycle", "1", "--final-epochs",
            "1", "--init-channels", "2", "--reductions", "1", "--n-good", "1", "--ntk-images", "2", "--lrc-patches",
            "40", "--train-images", "50", "--test-images", "20", "--device", "cpu", "--quiet", "--data-dir",
            str(fake_cifar), "--ablation", "spidernet", "random4", "--seed", "1", "2", "--workers", "2", "--out",
            str(tmp_path), "--json"]
    assert main(args) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert [(r["ablation"], r["seed"]) for r in runs] == [("spidernet", 1), ("random4", 1), ("spidernet", 2),
                                                           ("random4", 2)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["random4_s1", "random4_s2", "spidernet_s1", "spidernet_s2"]
    assert runs[1]["files"]["result"] == str(tmp_path / "random4_s1" / "result.json")
    assert main([*args[:-1]]) == 0 and "random4 seed 2" in capsys.readouterr().out  # a rerun only reads them back


# ---------------------------------------------------------------- augmentation
def test_cutout_zeroes_one_clipped_square_in_the_chosen_images():
    x = torch.ones(400, 3, 12, 12)
    out = cutout(x, 4, 0.5, torch.Generator().manual_seed(0))
    zeros = (out == 0).all(dim=1)                                          # (B, H, W): all channels cut together
    cut = zeros.flatten(1).any(1)
    assert 0.4 < cut.float().mean() < 0.6
    sizes = zeros.flatten(1).sum(1)[cut]
    assert sizes.max() == 16 and sizes.min() >= 4                        # 4x4 inside; at least 2x2 at a corner
    assert torch.equal(out[~cut], x[~cut]) and torch.equal(cutout(x, 0, 1.0, torch.Generator()), x)


# ---------------------------------------------------------------- CLI
@pytest.fixture(scope="module")
def fake_cifar(tmp_path_factory):
    """A data dir holding official-format CIFAR-10 pickles with 20 images per training batch and 30 test images."""
    root = tmp_path_factory.mktemp("data")
    folder = root / "cifar10" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name, n in [*[(f"data_batch_{i}", 20) for i in range(1, 6)], ("test_batch", 30)]:
        with open(folder / name, "wb") as f:
            pickle.dump(
                {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"labels": rng.integers(0, 10, n).tolist()},
                f,
            )
    return root


def test_cli_spidernet_writes_the_run(tmp_path, fake_cifar, capsys):
    out = tmp_path / "run"
    args = [
        "spidernet",
        "--cycles",
        "1",
        "--mutations-per-cycle",
        "1",
        "--epochs-per-cycle",
        "1",
        "--final-epochs",
        "1",
        "--init-channels",
        "2",
        "--reductions",
        "1",
        "--vram-gb",
        "4",
        "--n-good",
        "1",
        "--ntk-images",
        "2",
        "--lrc-patches",
        "40",
        "--batch-size",
        "50",
        "--train-images",
        "50",
        "--test-images",
        "20",
        "--seed",
        "3",
        "--device",
        "cpu",
        "--quiet",
        "--data-dir",
        str(fake_cifar),
        "--out",
        str(out),
        "--json",
    ]
    assert main(args) == 0
    r = json.loads(capsys.readouterr().out)
    assert (r["n_train"], r["n_test"], r["seed"], r["config"]["C"], r["config"]["vram_gb"]) == (50, 20, 3, 2, 4.0)
    assert r["config"]["ntk_batches"] == 2 and r["config"]["final_epochs"] == 1
    assert r["memory"]["kind"] == "param_and_buffer_bytes" and r["provenance"]["command"]
    for path in (r["files"]["result"], r["files"]["architecture"], *r["files"]["cells"]):
        assert (out / path.rsplit("/", 1)[1]).is_file()
    assert len(r["cycles"]) == 1 and {"mutations", "deadheaded", "accepted", "rejected"} <= set(r["cycles"][0])


@pytest.mark.parametrize("bad, needle", [
    (["--cycles", "-1"], "--cycles: '-1' is out of range"),
    (["--ablation", "random9"], "random9"),
    (["--vram-gb", "0"], "--vram-gb: '0' is out of range"),
    (["--ablation", "random1"], "reference"),
    (["--ablation", "random4", "--reference", "nowhere"], "result.json"),
    (["--seed", "1", "1"], "--seed 1 1 repeats a value"),
])
def test_cli_bad_input_is_one_line_and_exit_2(bad, needle, tmp_path, fake_cifar, capsys):
    code = main(
        ["spidernet", *bad, "--out", str(tmp_path / "x"), "--data-dir", str(fake_cifar), "--device", "cpu", "--quiet"]
    )
    err = capsys.readouterr().err
    assert code == 2 and needle in err and err.count("\n") == 1


@pytest.mark.gpu
def test_gpu_run_measures_memory_on_the_device(tmp_path):
    data = tuple(DeviceSplit(s.images_u8.cuda(), s.labels.cuda(), s.dataset) for s in (_split(64, 0), _split(32, 1)))
    res = run_spidernet(tmp_path, config=TINY, data=data, device="cuda")
    mem = res.summary["memory"]
    assert mem["kind"] == "cuda_max_memory_allocated" and mem["bytes"] > param_bytes(res.model)
    assert next(res.model.parameters()).is_cuda
    net = SpiderNet(C=2, reductions=1, seed=0).cuda()
    batch = data[0].batch(torch.arange(32, device="cuda"))
    # measured > modelled: + grads, activations, momentum
    assert measured_mutation_bytes(net, (1, 2, 3), batch) > mutation_bytes(net, (1, 2, 3))
