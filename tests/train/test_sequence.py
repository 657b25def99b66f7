"""The sequence network: weights from its own generator, gate biases, the input shortcut, step."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnai.runtime.errors import RnnaiError
from rnnai.tasks import AddingTask
from rnnai.train.sequence import NetConfig, SequenceNet, evaluate, masked_sse, slice_batch


def test_same_generator_same_weights_and_gate_biases_are_set() -> None:
    cfg = NetConfig(hidden=4, output_gate_bias=(-1.0, -2.0), input_gate_bias=(-3.0,))
    a = SequenceNet(2, 1, cfg, torch.Generator().manual_seed(1))
    b = SequenceNet(2, 1, cfg, torch.Generator().manual_seed(1))
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters(), strict=True))
    s = a.lstm.gate_slices
    bias = a.lstm.get_parameter("bias_ih_l0")
    assert bias[s["o"]].tolist() == [-1.0, -2.0, -1.0, -2.0]
    assert bias[s["i"]].tolist() == [-3.0] * 4
    assert float(a.lstm.get_parameter("bias_hh_l0")[s["o"]].abs().sum()) == 0.0
    w = a.lstm.get_parameter("weight_ih_l0")
    assert float(w.abs().max()) <= cfg.init_range


def test_forget_gate_bias_opens_the_forget_gates() -> None:
    net = SequenceNet(3, 2, NetConfig(variant="gers2000", forget_gate_bias=1.0),
                      torch.Generator().manual_seed(0))  # fmt: skip
    s = net.lstm.gate_slices
    assert net.lstm.get_parameter("bias_ih_l0")[s["f"]].tolist() == [1.0] * 4


def test_input_to_output_shortcut_feeds_the_inputs_to_the_head() -> None:
    cfg = NetConfig(variant="lstm1997", hidden=3, input_to_output=True)
    net = SequenceNet(5, 2, cfg, torch.Generator().manual_seed(0))
    assert net.head.in_features == 3 + 5
    with torch.no_grad():
        net.head.weight[:, :3] = 0.0  # silence the cells: only the shortcut is left
    x = torch.zeros(1, 4, 5)
    x2 = x.clone()
    x2[0, 3, 0] = 1.0  # changes only the last step's input
    y1, y2 = net(x), net(x2)
    assert torch.allclose(y1[0, :3], y2[0, :3]) and not torch.allclose(y1[0, 3], y2[0, 3])


@pytest.mark.parametrize("cfg", [NetConfig(variant="gers2000"), NetConfig(input_to_output=True)])
def test_step_by_chunks_equals_one_pass(cfg: NetConfig) -> None:
    net = SequenceNet(3, 2, cfg, torch.Generator().manual_seed(0))
    x = torch.randn(2, 10, 3, generator=torch.Generator().manual_seed(1))
    whole = net(x)
    a, state = net.step(x[:, :4], None)
    b, _ = net.step(x[:, 4:], state)
    assert torch.allclose(torch.cat([a, b], dim=1), whole, atol=1e-6)


def test_linear_output_is_not_squashed() -> None:
    net = SequenceNet(2, 1, NetConfig(output="linear", init_range=2.0),
                      torch.Generator().manual_seed(0))  # fmt: skip
    with torch.no_grad():
        net.head.bias.fill_(5.0)
    assert float(net(torch.zeros(1, 3, 2)).min()) > 1.0


def test_bad_configs_are_one_error() -> None:
    with pytest.raises(RnnaiError, match="output"):
        NetConfig(output="tanh")  # type: ignore[arg-type]
    with pytest.raises(RnnaiError, match="hidden"):
        NetConfig(hidden=0)
    with pytest.raises(RnnaiError, match="variant"):
        NetConfig(variant="nope")
    with pytest.raises(TypeError):
        NetConfig("lstm1997")  # type: ignore[misc]


def test_masked_sse_and_evaluate() -> None:
    out, y = torch.zeros(2, 2, 1), torch.ones(2, 2, 1)
    mask = torch.tensor([[True, False], [True, True]])
    assert float(masked_sse(out, y, mask)) == pytest.approx(0.75)
    task = AddingTask()
    batch = task.sample(np.random.default_rng(0), 6)
    net = SequenceNet(2, 1, NetConfig(hidden=2), torch.Generator().manual_seed(0))
    wrong, err, outputs = evaluate(net, task, batch, chunk=4)  # two chunks
    assert outputs.shape == batch.y.shape and 0 <= wrong <= 6 and err > 0
    assert evaluate(net, task, batch)[0] == wrong
    assert slice_batch(batch, 2, 5).batch_size == 3
