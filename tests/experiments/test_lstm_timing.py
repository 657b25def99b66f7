"""lstm.timing: the smoke run through the CLI, the verdict rule and the long free-run test."""

from __future__ import annotations

import json

import torch
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.experiments.lstm_timing import TimingExperiment, long_stream_test, timing_judgement
from rnnai.tasks import GTSConfig, GTSTask
from rnnai.train.loop import TrainConfig
from rnnai.train.sequence import NetConfig, SequenceNet


def test_smoke_run_writes_consistent_result(tmp_path):
    res = CliRunner().invoke(
        main, ["run", "lstm.timing", "--scale", "smoke", "--out", str(tmp_path), "--quiet"]
    )
    assert res.exit_code == 0, res.output
    out = tmp_path / "lstm.timing"
    r = json.loads((out / "result.json").read_text())
    assert r["paper"]["value"] == 1.0
    fr = r["metrics"]["headline_fractions"]
    assert r["headline"]["value"] == fr["peephole"]
    # smoke: Adam and one trial per variant, so never "reproduced"
    assert r["verdict"] != "reproduced"
    assert r["verdict"] == ("not_reproduced" if fr["peephole"] == 0 else "partial")
    assert set(r["metrics"]["msd"]) == {"gers2002", "gers2000"}
    assert r["config"]["cell_squashing"] == "identity" and r["config"]["hidden"] == 1
    assert len(r["plots"]) >= 2
    for plot in r["plots"]:
        assert (out / plot).is_file()


PAPER = TrainConfig(optimizer="sgd", lr=1e-5, momentum=0.999, max_sequences=100, eval_every=10)
ADAM = TrainConfig(optimizer="adam", lr=0.01, grad_clip=1.0)


def _v(peep: int, nopeep: int, n: int = 10, train: TrainConfig = PAPER) -> str:
    p = [i < peep for i in range(n)]
    q = [i < nopeep for i in range(n)]
    return timing_judgement(p, q, train, train.setup).verdict


def test_verdict_rule():
    assert _v(10, 0) == "reproduced"
    assert _v(10, 0, train=ADAM) == "partial"  # Adam is never the paper's setup
    assert _v(1, 0, n=1) == "partial"  # fewer than the paper's 10 trials
    assert _v(8, 3) == "partial"  # not every peephole net: below the claim
    assert _v(10, 10) == "partial"  # no gap to the nets without peepholes
    assert _v(0, 0) == "not_reproduced"


def test_net_has_the_papers_identity_squashing_one_cell_and_17_weights():
    exp = TimingExperiment()
    for variant, n_weights in (("gers2002", 17), ("gers2000", 14)):
        cfg = exp._net(variant, 1)
        lstm_variant = cfg.variant
        assert lstm_variant.input_activation == "identity"  # type: ignore[union-attr]
        assert lstm_variant.output_activation == "identity"  # type: ignore[union-attr]
        net = SequenceNet(1, 1, cfg, torch.Generator().manual_seed(0))
        # count distinct weights: the harness keeps two bias vectors (ih, hh) per gate
        n = sum(p.numel() for name, p in net.named_parameters() if name != "lstm.bias_hh_l0")
        assert n == n_weights
    paper = exp.config("paper")
    assert all(g["train"]["optimizer"] == "sgd" and g["train"]["lr"] == 1e-5 for g in paper["gts"])
    assert all(g["train"]["momentum"] == 0.999 for g in paper["gts"])
    assert paper["msd"]["train"]["momentum"] == 0.9999
    assert paper["msd"]["period"] == 49 and paper["msd"]["delays"] == [0, 1]


class _Oracle(SequenceNet):
    """Emits the target spike train exactly (a stand-in for a trained net)."""

    def __init__(self, period: int, shift: int = 0):
        super().__init__(1, 1, NetConfig(variant="gers2002", hidden=1), torch.Generator())
        self.period, self.shift = period, shift

    def forward(self, x, lengths=None):
        t = torch.arange(x.shape[1]) + 1 + self.shift  # step t = index + 1
        y = ((t > 0) & (t % self.period == 0)).float()
        return y.view(1, -1, 1).expand(x.shape[0], -1, 1)


def test_long_stream_test_accepts_exact_train_and_rejects_late_spikes():
    task = GTSTask(GTSConfig(period=7))
    good = long_stream_test(_Oracle(7), task, 20)
    assert good["solved"] and good["spike_train"] and good["spikes_right"] == 20
    late = long_stream_test(_Oracle(7, shift=-1), task, 20)
    assert not late["solved"] and not late["spike_train"] and late["spikes_right"] == 0
