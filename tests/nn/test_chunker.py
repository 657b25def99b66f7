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
    opt = torch.optim.Adam(hc.parameters(), lr=0.05)
    x = _stream([0, 1, 2] * 200)
    y = torch.zeros(1, x.shape[1], 1)
    state: CompressorState | None = None
    errors = []
    for i in range(0, x.shape[1], 3):
        res = train_step(hc, opt, x[:, i : i + 3], y[:, i : i + 3], None, state)
        state = res.state
        assert all(h.grad_fn is None for hs in state.hidden for h in hs)
        errors.append(float(res.output.prediction_error[0, :, 0].detach().sum()))
    assert sum(errors[-20:]) < 0.1 * sum(errors[1:21])  # A's prediction error
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


def _reference(hc: HistoryCompressor, x, y, mask) -> dict[str, torch.Tensor]:
    """The module's equations written out per step and per level for one stream (tanh RNN
    levels, ``target_surprise``, the "delta" time code, no feed-down)."""
    c = hc.config
    L, T = c.levels, x.shape[0]
    h = [torch.zeros(H, dtype=D64) for H in c.hidden_sizes]
    last, ticked = [-1] * L, [False] * L
    out = {k: torch.zeros(T, n, dtype=D64) for k, n in
           (("y", c.target_size), ("ticks", L), ("pe", L), ("te", L), ("ce", L - 1))}  # fmt: skip
    for t in range(T):
        tick = True
        for lv in range(L):
            if not tick:
                break
            Wp, bp = hc.predictors[lv].weight, hc.predictors[lv].bias
            Wy, by = hc.target_heads[lv].weight, hc.target_heads[lv].bias
            p = torch.sigmoid(Wp @ h[lv] + bp)  # the guess made at the previous tick
            surprise = not ticked[lv] or bool((p - x[t]).abs().max() > c.threshold)
            if ticked[lv]:
                out["pe"][t, lv] = ((p - x[t]) ** 2).sum()
            y_l = torch.sigmoid(Wy @ h[lv] + by)
            out["y"][t] = y_l
            if mask[t]:
                out["te"][t, lv] = ((y_l - y[t]) ** 2).sum()
                surprise = surprise or bool((y_l - y[t]).abs().max() > c.threshold)
            z = (
                x[t]
                if lv == 0
                else torch.cat([x[t], x.new_tensor([(t - last[lv]) / c.time_scale])])
            )
            cell = hc.cells[lv]
            h[lv] = torch.tanh(
                cell.weight_ih @ z + cell.bias_ih + cell.weight_hh @ h[lv] + cell.bias_hh
            )
            last[lv], ticked[lv] = t, True
            out["ticks"][t, lv] = 1.0
            tick = surprise
        for lv in range(L - 1):
            if out["ticks"][t, lv]:
                q = hc.collapsers[lv].weight @ h[lv] + hc.collapsers[lv].bias
                out["ce"][t, lv] = ((q - h[lv + 1]) ** 2).sum()
    return out


@pytest.mark.parametrize("bptt_ticks", [None, 3])
def test_forward_equals_a_direct_transcription_of_the_equations(bptt_ticks: int | None) -> None:
    torch.manual_seed(4)
    cfg = HistoryCompressorConfig(
        input_size=3, target_size=2, hidden_sizes=(4, 5, 3), target_surprise=True,
        threshold=0.5, time_scale=3.0, bptt_ticks=bptt_ticks,
    )  # fmt: skip
    hc = HistoryCompressor(cfg).double()
    gen = torch.Generator().manual_seed(5)
    x = torch.eye(3, dtype=D64)[torch.randint(0, 3, (2, 14), generator=gen)]
    y = torch.eye(2, dtype=D64)[torch.randint(0, 2, (2, 14), generator=gen)]
    mask = torch.rand(2, 14, generator=gen) < 0.4
    with torch.no_grad():
        out = hc(x, None, y, mask)
        assert (~out.ticks[..., 1]).any()  # the gating is exercised
        for b in range(2):
            ref = _reference(hc, x[b], y[b], mask[b])
            assert torch.equal(out.ticks[b].to(D64), ref["ticks"])
            assert out.ticks[b, :, 2].any()  # the third level is exercised
            for got, want in ((out.y[b], ref["y"]), (out.prediction_error[b], ref["pe"]),
                              (out.target_error[b], ref["te"]),
                              (out.collapse_error[b], ref["ce"])):  # fmt: skip
                assert torch.allclose(got, want, rtol=0, atol=1e-10)


def test_guesses_come_from_the_state_before_the_input_and_reach_back_over_ticks() -> None:
    # A always guesses symbol 0 and answers 0; so C ticks at symbols 1, 2 and at the target
    hc = _model(target_surprise=True, bptt_ticks=3)
    _fixed_predictor(hc.predictors[0], 0)
    with torch.no_grad():
        hc.target_heads[0].weight.zero_()
        hc.target_heads[0].bias.fill_(-20.0)
    x = _stream([1, 0, 0, 0, 0])
    y = torch.ones(1, 5, 1)
    mask = torch.tensor([[False, False, False, False, True]])
    first = hc(x[:, :3], None, y[:, :3], mask[:, :3])
    second = hc(x[:, 3:], first.state.detach(), y[:, 3:], mask[:, 3:])
    assert second.ticks[0, :, 1].tolist() == [False, True]
    # C's answer at step 4 is a function of its state after step 0 (its previous tick) ...
    h_prev = first.states[1][0, 0]
    want = torch.sigmoid(hc.target_heads[1](h_prev))
    assert torch.allclose(second.y[0, 1], want)
    # ... and its error reaches C's input weights of the symbol seen at that tick, in the
    # earlier window, through the recomputed window of C's last ticks
    second.target_error[..., 1].sum().backward()
    grad = hc.cells[1].weight_ih.grad
    assert grad is not None and grad[:, 1].abs().sum() > 1e-6
