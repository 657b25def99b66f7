"""The meta-LSTM: the input shift, the quadratic family, the error curve, determinism."""

from __future__ import annotations

import pytest
import torch

from rnnai.nn import LSTM
from rnnai.nn.meta_lstm import (
    MetaLSTM,
    QuadraticFamily,
    error_curve,
    quadratic_episodes,
    quadratic_features,
)
from rnnai.runtime.errors import RnnaiError


def episodes(seed: int, n: int = 4, length: int = 12, **kw):
    gen = torch.Generator().manual_seed(seed)
    return quadratic_episodes(
        QuadraticFamily(**kw), num_functions=n, length=length, generator=gen, dtype=torch.float64
    )


def test_episodes_are_the_quadratic_written_out_and_in_range() -> None:
    x, y, coef = episodes(0, coef_low=-2.0, coef_high=3.0, x_low=0.5, x_high=1.0, target_scale=4.0)
    a, b, c, d, e, g = coef.unbind(-1)
    x1, x2 = x[..., 0], x[..., 1]
    f = (
        a[:, None] * x1**2
        + b[:, None] * x2**2
        + c[:, None] * x1 * x2
        + d[:, None] * x1
        + e[:, None] * x2
        + g[:, None]
    )
    torch.testing.assert_close(y[..., 0], f / 4.0, rtol=0, atol=1e-12)
    assert x.min() >= 0.5 and x.max() <= 1.0 and coef.min() >= -2.0 and coef.max() <= 3.0
    assert quadratic_features(x).shape == (4, 12, 6)


def test_episodes_are_deterministic_per_seed() -> None:
    first, again, other = episodes(5), episodes(5), episodes(6)
    for a, b in zip(first, again, strict=True):
        assert torch.equal(a, b)
    assert not torch.equal(first[2], other[2])


def test_output_at_t_does_not_depend_on_y_t_but_on_y_before() -> None:
    torch.manual_seed(0)
    net = MetaLSTM(2, 1, hidden_size=8).double()
    x, y, _ = episodes(1, length=7)
    y = y.clone().requires_grad_()
    t = 4
    y_hat, _ = net(x, y)
    (g,) = torch.autograd.grad(y_hat[:, t].sum(), y)
    assert torch.all(g[:, t:] == 0)  # y_t and later targets never reach y_hat_t
    assert g[:, t - 1].abs().min() > 0  # y_{t-1} does


def test_shapes_and_equality_with_an_lstm_on_the_shifted_input() -> None:
    torch.manual_seed(1)
    net = MetaLSTM(2, 1, hidden_size=5, num_layers=2, variant="lstm1997").double()
    x, y, _ = episodes(2, n=3, length=9)
    y_hat, (lstm_state, y_last) = net(x, y)
    assert y_hat.shape == (3, 9, 1) and y_last.shape == (3, 1) and len(lstm_state) == 2
    lstm = LSTM(3, 5, num_layers=2, batch_first=True, variant="lstm1997").double()
    lstm.load_state_dict(net.lstm.state_dict())
    y_prev = torch.cat([torch.zeros(3, 1, 1, dtype=torch.float64), y[:, :-1]], 1)
    h, _ = lstm(torch.cat([x, y_prev], -1))
    torch.testing.assert_close(y_hat, net.readout(h), rtol=0, atol=1e-12)


def test_a_split_episode_carrying_the_state_equals_one_call() -> None:
    torch.manual_seed(2)
    net = MetaLSTM(2, 1, hidden_size=6).double()
    x, y, _ = episodes(3, length=10)
    whole, _ = net(x, y)
    a, state = net(x[:, :4], y[:, :4])
    b, _ = net(x[:, 4:], y[:, 4:], state)
    torch.testing.assert_close(torch.cat([a, b], 1), whole, rtol=0, atol=1e-12)


def test_error_curve_is_the_per_position_mean_squared_error() -> None:
    y = torch.zeros(2, 3, 2)
    y_hat = torch.tensor(
        [[[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]], [[3.0, 0.0], [0.0, 0.0], [1.0, 1.0]]]
    )
    torch.testing.assert_close(error_curve(y_hat, y), torch.tensor([5.0, 2.0, 1.0]))


def test_bad_arguments_raise_rnnai_error() -> None:
    with pytest.raises(RnnaiError, match="coef_low"):
        QuadraticFamily(coef_low=1.0, coef_high=0.0)
    with pytest.raises(RnnaiError, match="target_scale"):
        QuadraticFamily(target_scale=0.0)
    with pytest.raises(RnnaiError, match="num_functions"):
        quadratic_episodes(
            QuadraticFamily(), num_functions=0, length=3, generator=torch.Generator()
        )
    net = MetaLSTM(2, 1, hidden_size=4)
    with pytest.raises(RnnaiError, match="x of shape"):
        net(torch.zeros(2, 3, 3), torch.zeros(2, 3, 1))
    with pytest.raises(RnnaiError, match="y of shape"):
        net(torch.zeros(2, 3, 2), torch.zeros(2, 4, 1))
    with pytest.raises(RnnaiError, match="error_curve"):
        error_curve(torch.zeros(2, 3, 1), torch.zeros(2, 3, 2))
    with pytest.raises(RnnaiError, match="quadratic_features"):
        quadratic_features(torch.zeros(3))


def test_gradcheck_meta_lstm_inputs_targets_and_state() -> None:
    torch.manual_seed(3)
    net = MetaLSTM(2, 1, hidden_size=3).double()
    x, y, _ = episodes(4, n=2, length=4)
    x, y = x.clone().requires_grad_(), y.clone().requires_grad_()
    y_last = torch.randn(2, 1, dtype=torch.float64, requires_grad=True)
    _, (lstm_state, _) = net(x, y)
    h0 = tuple(s.detach().clone().requires_grad_() for s in lstm_state)

    def f(x, y, y_last, *h):
        return net(x, y, (tuple(h), y_last))[0]

    assert torch.autograd.gradcheck(f, (x, y, y_last, *h0))
    names = [n for n, _ in net.named_parameters()]

    def g(*ps):
        out, _ = torch.func.functional_call(net, dict(zip(names, ps, strict=True)), (x, y))
        return out

    params = [p.detach().clone().requires_grad_() for p in net.parameters()]
    assert torch.autograd.gradcheck(g, tuple(params))
