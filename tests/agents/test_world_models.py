"""rnnai.agents.world_models: V, M, C against direct transcriptions; seeds, data, dream, dodge."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnai.agents.world_models import (
    MDNRNN,
    PAPER_CONTROLLER_PARAMS,
    PAPER_M_PARAMS,
    PAPER_V_PARAMS,
    ConvVAE,
    DodgeConfig,
    DodgeEnv,
    DreamEnv,
    DreamNoise,
    MDNRNNConfig,
    RolloutData,
    VAEConfig,
    carracing_frames,
    collect_carracing,
    controller_actions,
    controller_dim,
    dodge_moves,
    drive_carracing,
    encode_frames,
    eval_seeds,
    frames_to_tensor,
    genome_seeds,
    load_rollouts,
    mdn_epoch,
    mdn_nll,
    random_car_actions,
    sample_mdn,
    save_rollouts,
    sequence_windows,
    vae_epoch,
    vae_loss,
)
from rnnai.runtime.errors import RnnaiError


def test_v_and_m_at_the_papers_sizes_have_the_papers_weight_counts() -> None:
    assert ConvVAE(VAEConfig()).n_params == PAPER_V_PARAMS == 4_348_547
    # PyTorch's LSTM has two bias vectors per gate: 4 x 256 more than the paper's count
    assert MDNRNN(MDNRNNConfig()).n_params == PAPER_M_PARAMS + 4 * 256
    assert controller_dim(32, 256, 3) == PAPER_CONTROLLER_PARAMS == 867
    assert controller_dim(32, 0, 3) == 99  # C on z only


def test_v_maps_64x64x3_frames_to_z_and_back_through_the_papers_layer_sizes() -> None:
    vae = ConvVAE(VAEConfig(channels=(4, 4, 4, 8), z_dim=5))
    x = torch.rand(3, 3, 64, 64)
    h = x
    shapes = []
    for conv in vae.enc:
        h = conv(h)
        shapes.append(tuple(h.shape[2:]))
    assert shapes == [(31, 31), (14, 14), (6, 6), (2, 2)]
    with torch.no_grad():
        recon, mu, logvar = vae(x, torch.Generator().manual_seed(0))
    assert recon.shape == x.shape and mu.shape == logvar.shape == (3, 5)
    assert float(recon.min()) >= 0.0 and float(recon.max()) <= 1.0
    with pytest.raises(RnnaiError, match=r"\(N, 3, 64, 64\)"):
        vae.encode(torch.zeros(1, 3, 32, 32))


def test_vae_loss_is_the_summed_squared_error_plus_the_floored_kl() -> None:
    g = torch.Generator().manual_seed(1)
    x = torch.rand(2, 3, 4, 4, generator=g, dtype=torch.float64)
    r = torch.rand(2, 3, 4, 4, generator=g, dtype=torch.float64)
    mu = torch.randn(2, 3, generator=g, dtype=torch.float64)
    lv = torch.randn(2, 3, generator=g, dtype=torch.float64)
    expected = []
    for n in range(2):
        rec = sum(float(x[n].flatten()[i] - r[n].flatten()[i]) ** 2 for i in range(48))
        kl = sum(0.5 * (math.exp(float(lv[n, i])) + float(mu[n, i]) ** 2 - 1 - float(lv[n, i]))
                 for i in range(3))  # fmt: skip
        expected.append((rec, kl))
    for floor in (0.0, 100.0):
        want = np.mean([rec + max(kl, floor) for rec, kl in expected])
        assert float(vae_loss(x, r, mu, lv, floor)) == pytest.approx(want, abs=1e-10)


def _mixture(seed: int, n: int = 2, z: int = 3, k: int = 4) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    log_pi = torch.log_softmax(torch.randn(n, z, k, generator=g, dtype=torch.float64), dim=-1)
    mu = torch.randn(n, z, k, generator=g, dtype=torch.float64)
    ls = 0.3 * torch.randn(n, z, k, generator=g, dtype=torch.float64)
    target = torch.randn(n, z, generator=g, dtype=torch.float64)
    return target, log_pi, mu, ls


def test_mdn_nll_is_minus_the_log_mixture_density_per_dimension() -> None:
    target, log_pi, mu, ls = _mixture(2)
    vals = []
    for n in range(2):
        for i in range(3):
            dens = sum(
                math.exp(float(log_pi[n, i, k]))
                * math.exp(-0.5 * ((float(target[n, i]) - float(mu[n, i, k]))
                                   / math.exp(float(ls[n, i, k]))) ** 2)
                / (math.exp(float(ls[n, i, k])) * math.sqrt(2 * math.pi))
                for k in range(4)
            )  # fmt: skip
            vals.append(-math.log(dens))
    assert float(mdn_nll(target, log_pi, mu, ls)) == pytest.approx(np.mean(vals), abs=1e-10)


def test_mdn_nll_gradient_passes_gradcheck() -> None:
    target, log_pi, mu, ls = _mixture(3)
    args = tuple(t.clone().requires_grad_(True) for t in (target, log_pi, mu, ls))
    assert torch.autograd.gradcheck(mdn_nll, args)


def test_m_outputs_normalized_mixtures_and_an_end_logit() -> None:
    model = MDNRNN(MDNRNNConfig(z_dim=3, action_dim=2, hidden=5, mixtures=4, predict_done=True))
    log_pi, mu, ls, done, (h, c), out = model(torch.randn(2, 7, 3), torch.randn(2, 7, 2))
    assert log_pi.shape == mu.shape == ls.shape == (2, 7, 3, 4)
    assert torch.allclose(log_pi.exp().sum(-1), torch.ones(2, 7, 3), atol=1e-6)
    assert done is not None and done.shape == (2, 7)
    assert h.shape == c.shape == (1, 2, 5) and torch.equal(out[:, -1], h[0])
    with pytest.raises(RnnaiError, match="M expects"):
        model(torch.randn(2, 7, 4), torch.randn(2, 7, 2))


def test_sampling_at_temperature_scales_sigma_by_sqrt_tau_and_sharpens_the_weights() -> None:
    n = torch.randn(4, 3, dtype=torch.float64)
    u = torch.rand(4, 3, dtype=torch.float64)
    mu = torch.randn(4, 3, 1, dtype=torch.float64)
    ls = torch.randn(4, 3, 1, dtype=torch.float64)
    lp = torch.zeros(4, 3, 1, dtype=torch.float64)
    for tau in (0.5, 1.0, 1.15):
        z = sample_mdn(lp, mu, ls, tau, u, n)
        assert torch.allclose(z, mu[..., 0] + ls[..., 0].exp() * math.sqrt(tau) * n, atol=1e-12)
    # two components with weights 0.8 / 0.2: the share of the first grows as tau falls
    lp2 = torch.log(torch.tensor([0.8, 0.2], dtype=torch.float64)).expand(20000, 1, 2)
    mu2 = torch.tensor([0.0, 100.0], dtype=torch.float64).expand(20000, 1, 2)
    ls2 = torch.full((20000, 1, 2), -20.0, dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    uu = torch.rand(20000, 1, generator=g, dtype=torch.float64)
    share = {
        tau: float((sample_mdn(lp2, mu2, ls2, tau, uu, torch.zeros(20000, 1)) < 50).double().mean())
        for tau in (0.5, 1.0, 2.0)
    }
    expected = {tau: 0.8 ** (1 / tau) / (0.8 ** (1 / tau) + 0.2 ** (1 / tau)) for tau in share}
    for tau in share:
        assert share[tau] == pytest.approx(expected[tau], abs=0.01)
    assert share[0.5] > share[1.0] > share[2.0]
    z0 = sample_mdn(lp2[:2], mu2[:2], ls2[:2], 0.0, uu[:2], torch.zeros(2, 1))
    assert z0.tolist() == [[0.0], [0.0]]  # tau 0: the most likely component's mean
    with pytest.raises(RnnaiError, match="tau"):
        sample_mdn(lp2, mu2, ls2, -1.0, uu, uu)


def test_controller_actions_are_each_rows_own_linear_map_squashed() -> None:
    rng = np.random.default_rng(0)
    P, Fdim = 4, 6
    g = rng.normal(size=(P, controller_dim(Fdim, 0, 3)))
    x = rng.normal(size=(P, Fdim))
    a = controller_actions(g, x, "car")
    for p in range(P):
        W, b = g[p, : 3 * Fdim].reshape(3, Fdim), g[p, 3 * Fdim :]
        y = np.tanh(W @ x[p] + b)
        want = [y[0], (y[1] + 1) / 2, max(y[2], 0.0)]
        assert np.allclose(a[p], want, atol=1e-12)
    assert (a[:, 1] >= 0).all() and (a[:, 2] >= 0).all()
    t = controller_actions(g[:, : Fdim + 1], x, "tanh")
    assert t.shape == (P, 1)
    with pytest.raises(RnnaiError, match="genomes must have shape"):
        controller_actions(g[:, :-1], x, "car")
    with pytest.raises(RnnaiError, match="squash"):
        controller_actions(g, x, "relu")


def test_dodge_moves_split_the_output_at_one_third() -> None:
    assert dodge_moves(np.array([-0.9, -0.34, -0.3, 0.0, 0.3, 0.34, 1.0])).tolist() == [
        -1, -1, 0, 0, 0, 1, 1]  # fmt: skip


def test_training_seeds_are_even_per_genome_and_evaluation_seeds_odd() -> None:
    rng = np.random.default_rng(0)
    genomes = rng.normal(size=(50, 10))
    train = np.concatenate([genome_seeds(g, 16, "x") for g in genomes])
    assert (train % 2 == 0).all()
    assert np.array_equal(genome_seeds(genomes[0], 16, "x"), genome_seeds(genomes[0], 16, "x"))
    assert not np.array_equal(genome_seeds(genomes[0], 16, "x"), genome_seeds(genomes[1], 16, "x"))
    held = eval_seeds(1000)
    assert (held % 2 == 1).all() and not set(train.tolist()) & set(held.tolist())


def test_rollouts_round_trip_through_a_compressed_npz_without_pickles(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    data = RolloutData(
        frames=rng.integers(0, 256, (5, 64, 64, 3), dtype=np.uint8),
        actions=rng.normal(size=(5, 3)).astype(np.float32),
        rewards=rng.normal(size=5).astype(np.float32),
        dones=np.array([False, True, False, False, True]),
        starts=np.array([0, 2]),
        seeds=np.array([4, 6]),
    )
    path = tmp_path / "r.npz"
    save_rollouts(path, data)
    with np.load(path, allow_pickle=False) as f:
        assert sorted(f.files) == ["actions", "dones", "frames", "rewards", "seeds", "starts"]
    back = load_rollouts(path)
    for k in ("frames", "actions", "rewards", "dones", "starts", "seeds"):
        assert np.array_equal(getattr(back, k), getattr(data, k))
    assert back.episodes() == [(0, 2), (2, 5)]


def test_sequence_windows_stay_inside_episodes() -> None:
    starts = sequence_windows([(0, 10), (10, 13), (13, 30)], 4)
    assert starts.tolist() == [0, 4, 13, 17, 21, 25]
    for s in starts:
        assert any(a <= s and s + 4 < b for a, b in [(0, 10), (10, 13), (13, 30)])


def test_carracing_frames_cut_the_dashboard_and_average_to_64x64() -> None:
    raw = np.full((2, 96, 96, 3), 100, dtype=np.uint8)
    raw[:, 84:] = 255  # the dashboard rows must not reach V
    out = carracing_frames(raw)
    assert out.shape == (2, 64, 64, 3) and out.dtype == np.uint8 and (out == 100).all()
    raw[1, :42] = 0  # top half black
    out = carracing_frames(raw)
    assert (out[1, :32] == 0).all() and (out[1, 32:] == 100).all() and (out[0] == 100).all()
    with pytest.raises(RnnaiError, match="96, 96, 3"):
        carracing_frames(raw[:, :64])
    assert frames_to_tensor(out).shape == (2, 3, 64, 64)


def test_dodge_env_is_deterministic_per_seed_and_independent_of_its_batch() -> None:
    seeds = np.array([2, 4, 6, 8])
    moves = np.random.default_rng(0).integers(-1, 2, (60, 4))
    env, alone = DodgeEnv(seeds), DodgeEnv(seeds[2:3])
    totals, total_alone = np.zeros(4), 0.0
    for t in range(60):
        r, _ = env.step(moves[t])
        totals += r
        total_alone += alone.step(moves[t, 2:3])[0][0]
        if t == 5:
            assert np.array_equal(env.render()[2], alone.render()[0])
    assert totals[2] == total_alone
    assert 1 <= totals.min() and totals.max() <= DodgeConfig().max_steps
    frames = env.render()
    assert frames.shape == (4, 64, 64, 3) and frames.dtype == np.uint8
    with pytest.raises(RnnaiError, match="moves"):
        env.step(np.array([2, 0, 0, 0]))


def test_dodge_episodes_end_when_a_fireball_hits_the_agent() -> None:
    env = DodgeEnv(np.array([0]), DodgeConfig(balls=1, max_steps=1000))
    env.bx[:] = env.x  # the ball falls straight onto the agent
    steps = 0
    while env.alive.any():
        env.step(np.array([0]))
        steps += 1
    assert steps < 1 / DodgeConfig().speed + 2


def test_the_dream_of_one_agent_does_not_depend_on_its_batch() -> None:
    torch.manual_seed(0)
    model = MDNRNN(MDNRNNConfig(z_dim=3, action_dim=1, hidden=4, predict_done=True))
    seeds = np.array([10, 12, 14])
    z0 = torch.randn(3, 3)
    batch = DreamEnv(model, z0, 1.15, DreamNoise.draw(seeds, 20, 3), 20)
    one = DreamEnv(model, z0[1:2], 1.15, DreamNoise.draw(seeds[1:2], 20, 3), 20)
    acts = np.random.default_rng(0).choice([-1.0, 0.0, 1.0], (20, 3))
    tb, to = np.zeros(3), 0.0
    for t in range(20):
        assert np.allclose(batch.features[1], one.features[0], atol=1e-6)
        tb += batch.step(acts[t][:, None])
        to += one.step(acts[t][1:2, None])[0]
    assert tb[1] == to and not batch.alive.any()  # all end by the step limit
    with pytest.raises(RnnaiError, match="noise"):
        DreamEnv(model, z0, 1.0, DreamNoise.draw(seeds, 5, 3), 20)


def test_one_epoch_of_v_and_of_m_lowers_their_losses_on_tiny_data() -> None:
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    frames = DodgeEnv(np.arange(4) * 2).render().repeat(4, axis=0)
    vae = ConvVAE(VAEConfig(z_dim=2, channels=(2, 2, 2, 2), kl_floor=0.0))
    opt = torch.optim.Adam(vae.parameters(), lr=1e-2)
    losses = [vae_epoch(vae, opt, frames, 8, g) for _ in range(3)]
    assert losses[-1] < losses[0]
    data = RolloutData(frames=frames, actions=np.zeros((16, 1), np.float32),
                       rewards=np.ones(16, np.float32), dones=np.arange(16) % 8 == 7,
                       starts=np.array([0, 8]), seeds=np.array([0, 2]))  # fmt: skip
    model = MDNRNN(MDNRNNConfig(z_dim=2, action_dim=1, hidden=3, predict_done=True))
    optm = torch.optim.Adam(model.parameters(), lr=1e-2)
    mu = np.random.default_rng(0).normal(size=(16, 2)).astype(np.float32)
    lv = np.full((16, 2), -4.0, np.float32)
    ml = [mdn_epoch(model, optm, data, mu, lv, 3, 2, g) for _ in range(5)]
    assert ml[-1] < ml[0]
    with pytest.raises(RnnaiError, match="seq_len"):
        mdn_epoch(model, optm, data, mu, lv, 20, 2, g)


def test_random_car_actions_stay_in_carracings_action_box() -> None:
    a = random_car_actions(np.random.default_rng(0), 500)
    assert a.shape == (500, 3) and a.dtype == np.float32
    assert a[:, 0].min() >= -1 and a[:, 0].max() <= 1 and a[:, 0].std() > 0.2
    assert (a[:, 1] >= 0.3).all() and (a[:, 1] <= 1).all() and (a[:, 2] >= 0).all()


def test_carracing_data_and_a_batched_drive_equal_single_drives() -> None:
    pytest.importorskip("Box2D")
    data = collect_carracing(np.array([2]), 3, 4, np.random.default_rng(0))
    assert data.frames.shape == (3, 64, 64, 3) and data.dones.tolist() == [False, False, True]
    enc = encode_frames(ConvVAE(VAEConfig(channels=(2, 2, 2, 2), z_dim=4)), data.frames)
    assert enc[0].shape == enc[1].shape == (3, 4)
    torch.manual_seed(0)
    vae = ConvVAE(VAEConfig(channels=(2, 2, 2, 2), z_dim=4)).eval()
    model = MDNRNN(MDNRNNConfig(z_dim=4, hidden=3)).eval()
    genomes = np.random.default_rng(1).normal(size=(2, controller_dim(4, 3, 3)))
    both = drive_carracing(vae, model, genomes, np.array([4, 6]), 3, 4)
    one = drive_carracing(vae, model, genomes[1:], np.array([6]), 3, 4)
    assert both[1] == pytest.approx(one[0], abs=1e-9)
