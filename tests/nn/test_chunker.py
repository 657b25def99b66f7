"""Tests of rnnai.nn.chunker: the chunker receives exactly the unpredicted inputs with the time
code, levels compose, the collapse term, truncated BPTT, state carrying and determinism."""

from __future__ import annotations

import pytest
import torch

from rnnai.nn.chunker import (
    CompressorState,
    HistoryCompressor,
    HistoryCompressorConfig,
    surprise_mask,
    time_code,
    train_step,
)
from rnnai.runtime.errors import RnnaiError

D64 = torch.float64


def _fixed_predictor(layer: torch.nn.Linear, symbol: int) -> None:
    """Make a level always predict ``symbol`` (one-hot, saturated)."""
    with torch.no_grad():
        layer.weight.zero_()
        layer.bias.fill_(-20.0)
        layer.bias[symbol] = 20.0


def _stream(symbols: list[int], n: int = 3) -> torch.Tensor:
    return torch.eye(n)[torch.tensor(symbols)][None]  # (1, T, n)


def _model(levels: int = 2, **kw) -> HistoryCompressor:
    torch.manual_seed(0)
    cfg = HistoryCompressorConfig(input_size=3, target_size=1, hidden_sizes=(5,) * levels, **kw)
    return HistoryCompressor(cfg)


SYMBOLS = [0, 1, 0, 0, 2, 0, 1]


def test_chunker_receives_exactly_the_unpredicted_inputs_with_the_time_code() -> None:
    hc = _model(time_scale=1.0)
    _fixed_predictor(hc.predictors[0], 0)
    x = _stream(SYMBOLS)
    out = hc(x)
    assert out.ticks[0, :, 0].all()
    ticks = out.ticks[0, :, 1].nonzero().flatten().tolist()
    assert ticks == [0, 1, 4, 6]  # the first input and every symbol other than 0
    z = out.level_inputs[1][0]  # (T, I + 1)
    for t in range(len(SYMBOLS)):
        if t in ticks:
            assert torch.equal(z[t, :3], x[0, t])
        else:
            assert torch.equal(z[t], torch.zeros(4))
    assert z[ticks, 3].tolist() == [1.0, 1.0, 3.0, 2.0]  # steps since the last tick


def test_chunker_state_changes_only_at_its_ticks() -> None:
    hc = _model()
    _fixed_predictor(hc.predictors[0], 0)
    h = hc(_stream(SYMBOLS)).states[1][0]  # (T, H)
    for t in (2, 3, 5):
        assert torch.equal(h[t], h[t - 1])
    for t in (1, 4, 6):
        assert not torch.equal(h[t], h[t - 1])


def test_levels_compose() -> None:
    hc = _model(levels=3, time_scale=1.0)
    _fixed_predictor(hc.predictors[0], 0)
    _fixed_predictor(hc.predictors[1], 1)  # level 1 expects symbol 1
    out = hc(_stream(SYMBOLS))
    # level 1 sees 0, 1, 2, 1 at steps 0, 1, 4, 6; its surprises: the first, and the 2 at step 4
    assert out.surprises[0, :, 1].nonzero().flatten().tolist() == [0, 4]
    assert out.ticks[0, :, 2].nonzero().flatten().tolist() == [0, 4]
    assert out.level_inputs[2][0, [0, 4], 3].tolist() == [1.0, 4.0]


def test_step_time_code_and_no_time_code() -> None:
    hc = _model(time_code="step", time_scale=2.0)
    _fixed_predictor(hc.predictors[0], 0)
    z = hc(_stream(SYMBOLS)).level_inputs[1][0]
    assert z[[0, 1, 4, 6], 3].tolist() == [0.5, 1.0, 2.5, 3.5]
    hc = _model(time_code="none")
    assert hc(_stream(SYMBOLS)).level_inputs[1].shape == (1, 7, 3)


def test_time_code_and_surprise_functions() -> None:
    last = torch.tensor([-1, 3])
    assert time_code("delta", 5, last, 2.0)[:, 0].tolist() == [3.0, 1.0]
    assert time_code("step", 5, last, 1.0)[:, 0].tolist() == [6.0, 6.0]
    p = torch.tensor([[0.9, 0.1], [0.5, 0.5]])
    assert surprise_mask(p, torch.tensor([[1.0, 0.0], [1.0, 0.0]]), 0.3).tolist() == [False, True]


def test_prediction_error_counts_only_after_the_first_tick() -> None:
    hc = _model()
    _fixed_predictor(hc.predictors[0], 0)
    with torch.no_grad():
        out = hc(_stream(SYMBOLS))
    assert out.prediction_error[0, 0, 0] == 0
    assert float(out.prediction_error[0, 1, 0]) == pytest.approx(2.0, abs=1e-6)  # guessed 0, saw 1
    assert float(out.prediction_error[0, 2, 0]) == pytest.approx(0.0, abs=1e-6)


def test_collapse_term_is_the_distance_to_the_chunker_state() -> None:
    hc = _model()
    out = hc(_stream(SYMBOLS))
    q = hc.collapsers[0](out.states[0][0])
    want = ((q - out.states[1][0]) ** 2).sum(-1)
    assert torch.allclose(out.collapse_error[0, :, 0], want)


def test_collapse_gradient_does_not_reach_the_chunker() -> None:
    hc = _model()
    out = hc(_stream(SYMBOLS))
    out.collapse_error.sum().backward()
    assert hc.collapsers[0].weight.grad is not None
    assert hc.cells[1].weight_ih.grad is None


def test_windows_with_carried_state_equal_one_pass_and_are_deterministic() -> None:
    x = torch.eye(3)[torch.randint(0, 3, (2, 12), generator=torch.Generator().manual_seed(1))]
    hc = _model(levels=3, cell="lstm")
    whole = hc(x)
    first = hc(x[:, :5])
    second = hc(x[:, 5:], first.state)
    assert torch.equal(torch.cat([first.ticks, second.ticks], 1), whole.ticks)
    assert torch.allclose(torch.cat([first.y, second.y], 1), whole.y)
    again = _model(levels=3, cell="lstm")(x)
    assert torch.equal(again.y, whole.y) and torch.equal(again.ticks, whole.ticks)


def test_train_step_truncates_and_learns_a_repeating_stream() -> None:
    hc = _model(collapse_weight=0.0)
    opt = torch.optim.Adam(hc.parameters(), lr=0.1)
    x = _stream([0, 1, 2] * 100)
    y = torch.zeros(1, x.shape[1], 1)
    state: CompressorState | None = None
    first = last = 0.0
    for i in range(0, x.shape[1], 3):
        res = train_step(hc, opt, x[:, i : i + 3], y[:, i : i + 3], None, state)
        state = res.state
        assert all(h.grad_fn is None for hs in state.hidden for h in hs)
        first = res.losses["prediction"] if i == 3 else first
        last = res.losses["prediction"]
    assert last < 0.1 * first
    # once A predicts the stream, the chunker no longer ticks
    assert not hc(x[:, :9], state).ticks[..., 1].any()


def test_gradcheck_through_the_gated_levels() -> None:
    # the collapse target is detached on purpose (a one-sided term), so leave it out here
    hc = _model(levels=2, collapse_weight=0.0).double()
    x = _stream(SYMBOLS).double().requires_grad_()
    assert torch.autograd.gradcheck(lambda x: hc.loss(hc(x))[0], (x,))


def test_bad_config_and_input_raise() -> None:
    with pytest.raises(RnnaiError, match="hidden_sizes"):
        HistoryCompressorConfig(input_size=3, hidden_sizes=())
    with pytest.raises(RnnaiError, match="threshold"):
        HistoryCompressorConfig(input_size=3, threshold=1.5)
    with pytest.raises(RnnaiError, match="expected x"):
        _model()(torch.zeros(1, 4, 5))
    with pytest.raises(RnnaiError, match="config"):
        HistoryCompressor({"input_size": 3})  # type: ignore[arg-type]


def test_feed_down_lets_the_automatizer_read_the_chunker_state() -> None:
    hc = _model(feed_down=True)
    assert hc.cells[0].weight_ih.shape[1] == 3 + 5 and hc.cells[1].weight_ih.shape[1] == 4
    x = _stream(SYMBOLS)
    base = hc(x).y
    with torch.no_grad():
        hc.cells[0].weight_ih[:, 3:] += 1.0  # only the weights from C's state change
    assert not torch.allclose(hc(x).y[:, 1:], base[:, 1:])


def test_target_surprise_passes_wrong_answers_up_and_the_top_level_answers() -> None:
    hc = _model(target_surprise=True)
    _fixed_predictor(hc.predictors[0], 0)
    with torch.no_grad():  # A always answers 0, C always answers 1
        hc.target_heads[0].weight.zero_()
        hc.target_heads[0].bias.fill_(-20.0)
        hc.target_heads[1].weight.zero_()
        hc.target_heads[1].bias.fill_(20.0)
    x = _stream(SYMBOLS)
    y = torch.ones(1, 7, 1)
    mask = torch.zeros(1, 7, dtype=torch.bool)
    mask[0, 3] = True  # a predictable input (0) with a target A gets wrong
    with torch.no_grad():
        out = hc(x, y=y, mask=mask)
    assert out.ticks[0, :, 1].nonzero().flatten().tolist() == [0, 1, 3, 4, 6]
    assert out.y[0, 3, 0] > 0.99 and out.y[0, 2, 0] < 0.01  # C answers where it ticked
    assert out.target_error[0, 3, 0] > 0.99 and out.target_error[0, 3, 1] < 1e-6
    assert out.target_error[0, 2].abs().max() == 0  # unmasked steps count nothing


def _grads(h: torch.Tensor, params: list[torch.nn.Parameter]) -> list[torch.Tensor]:
    return list(torch.autograd.grad(h.sum(), params))


@pytest.mark.parametrize("k", [1, 2, 3])
def test_bptt_ticks_keeps_the_values_and_truncates_the_gradient_in_level_time(k: int) -> None:
    x = torch.eye(3)[torch.randint(0, 3, (2, 9), generator=torch.Generator().manual_seed(2))]
    ref = _model(levels=2)(x)
    hc = _model(levels=2, bptt_ticks=k)
    out = hc(x)
    assert torch.allclose(out.states[0], ref.states[0], atol=1e-6)
    assert torch.allclose(out.states[1], ref.states[1], atol=1e-6)
    for level in (0, 1):
        cell = hc.cells[level]
        params = [cell.weight_ih, cell.weight_hh]
        ticks = out.ticks[0, :, level].nonzero().flatten().tolist()
        if len(ticks) <= k:
            continue
        last = ticks[-1]
        # truncated BPTT written out: k steps of the level's net from its detached state
        h = out.states[level][0:1, ticks[-k - 1]].detach()
        for t in ticks[-k:]:
            h = cell(out.level_inputs[level][0:1, t], h)
        assert torch.allclose(h, out.states[level][0:1, last], atol=1e-6)
        for got, want in zip(
            _grads(out.states[level][0, last], params), _grads(h, params), strict=True
        ):
            assert torch.allclose(got, want, atol=1e-6)


def test_bptt_ticks_windows_equal_one_pass() -> None:
    x = torch.eye(3)[torch.randint(0, 3, (2, 12), generator=torch.Generator().manual_seed(3))]
    hc = _model(levels=3, bptt_ticks=2)
    whole = hc(x)
    first = hc(x[:, :5])
    second = hc(x[:, 5:], first.state.detach())
    assert torch.equal(torch.cat([first.ticks, second.ticks], 1), whole.ticks)
    assert torch.allclose(torch.cat([first.states[2], second.states[2]], 1), whole.states[2])
