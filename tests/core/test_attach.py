"""attach() on three kinds of model, alpha forms and their equivalences, dual and K-set models."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import dynamicnet
from dynamicnet.core import AlphaError, DynamicNet
from dynamicnet.networks.blocks import ConvTuningBlock
from dynamicnet.tasks.style import model as style


class CountingBlock(nn.Module):
    """A conv block that counts its calls, to prove zero-alpha blocks are skipped."""

    calls = 0

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, z):
        CountingBlock.calls += 1
        return self.conv(z)


class TinyUNet(nn.Module):
    """Encoder-decoder with a skip connection and BatchNorm."""

    def __init__(self):
        super().__init__()
        self.enc1 = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.enc2 = nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU())
        self.mid = nn.Conv2d(16, 16, 3, padding=1)
        self.up = nn.Upsample(scale_factor=2)
        self.dec = nn.Conv2d(16 + 8, 3, 3, padding=1)

    def forward(self, x):
        e1 = self.enc1(x)
        m = self.mid(self.enc2(e1))
        return self.dec(torch.cat([self.up(m), e1], 1))


def sequential():
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.Conv2d(8, 3, 1)
    )


def randomise_blocks(net: DynamicNet, scale=0.1):
    torch.manual_seed(1)
    with torch.no_grad():
        for p in net.block_parameters():
            p.normal_(0, scale)


MODELS = {
    "sequential": (sequential, {"b0": "0", "b1": "2"}),
    "unet": (TinyUNet, {"skip": "enc1", "bottleneck": "mid"}),
}


@pytest.fixture(params=sorted(MODELS))
def attached(request):
    torch.manual_seed(0)
    make, at = MODELS[request.param]
    base = make().eval()
    net = dynamicnet.attach(base, at, CountingBlock).eval()
    randomise_blocks(net)
    return base, net


X = torch.rand(2, 3, 16, 12)


def test_zero_alpha_is_base_bit_exact_and_skips_blocks(attached):
    base, net = attached
    with torch.no_grad():
        expected = base(X)
        CountingBlock.calls = 0
        for alpha in (0, 0.0, [0, 0], {}, torch.zeros(2), torch.zeros(2, 1, 16, 12)):
            assert torch.equal(net(X, alpha=alpha), expected)
        assert CountingBlock.calls == 0
        assert torch.equal(net(X), expected)


def test_nonzero_alpha_changes_output_and_runs_blocks(attached):
    base, net = attached
    with torch.no_grad():
        CountingBlock.calls = 0
        out = net(X, alpha=1.0)
        assert CountingBlock.calls == len(net.block_names)
        assert not torch.allclose(out, base(X))


def test_alpha_form_equivalences(attached):
    _, net = attached
    names = net.block_names
    with torch.no_grad():
        scalar = net(X, alpha=0.6)
        assert torch.equal(net(X, alpha=[0.6] * len(names)), scalar)
        assert torch.equal(net(X, alpha=tuple([0.6] * len(names))), scalar)
        assert torch.equal(net(X, alpha=dict.fromkeys(names, 0.6)), scalar)
        assert torch.allclose(net(X, alpha=torch.tensor(0.6)), scalar, atol=1e-6)
        assert torch.allclose(net(X, alpha=torch.full((2,), 0.6)), scalar, atol=1e-6)
        assert torch.allclose(net(X, alpha=torch.full((2, 1, 16, 12), 0.6)), scalar, atol=1e-5)
        mixed = [torch.full((2,), 0.6)] + [0.6] * (len(names) - 1)
        assert torch.allclose(net(X, alpha=mixed), scalar, atol=1e-6)
        # a dict naming one block leaves the others at 0
        one = net(X, alpha={names[0]: 0.6})
        assert torch.equal(one, net(X, alpha=[0.6] + [0.0] * (len(names) - 1)))


def test_per_sample_alpha_equals_separate_calls(attached):
    _, net = attached
    alphas = torch.tensor([0.25, 0.9])
    with torch.no_grad():
        batched = net(X, alpha=alphas)
        for i in range(2):
            single = net(X[i : i + 1], alpha=float(alphas[i]))
            assert torch.allclose(batched[i : i + 1], single, atol=1e-5)


def test_spatial_map_is_local(attached):
    """Left half alpha 0, right half alpha 1: each half matches the global setting away from the seam."""
    base, net = attached
    x = torch.rand(2, 3, 16, 32)
    amap = torch.zeros(2, 1, 16, 32)
    amap[..., 16:] = 1.0
    with torch.no_grad():
        out = net(x, alpha=amap)
        zero, one = net(x, alpha=0.0), net(x, alpha=1.0)
    assert not torch.allclose(out, zero) and not torch.allclose(out, one)
    assert torch.allclose(out[..., :4], zero[..., :4], atol=1e-5)
    assert torch.allclose(out[..., -4:], one[..., -4:], atol=1e-5)


def test_alpha_errors(attached):
    _, net = attached
    with pytest.raises(AlphaError, match="unknown block 'nope'"):
        net(X, alpha={"nope": 1.0})
    with pytest.raises(AlphaError, match="per-block values"):
        net(X, alpha=[1.0] * (len(net.block_names) + 1))
    with pytest.raises(AlphaError, match="batch size"):
        net(X, alpha=torch.ones(3))
    with pytest.raises(AlphaError, match="shape"):
        net(X, alpha=torch.ones(2, 2))
    with pytest.raises(AlphaError):
        net(X, alpha="0.5")


def test_base_is_frozen_and_batchnorm_stays_in_eval():
    torch.manual_seed(0)
    base = TinyUNet()
    net = dynamicnet.attach(base, {"skip": "enc1"}, ConvTuningBlock)
    bn = base.enc1[1]
    stats = bn.running_mean.clone()
    net.train()
    assert not bn.training and net.blocks.training
    out = net(X, alpha=1.0)
    out.mean().backward()
    assert torch.equal(bn.running_mean, stats)
    assert all(p.grad is None for p in base.parameters())
    assert all(p.grad is not None for p in net.block_parameters())
    net.unfreeze_base()
    net.train()
    assert bn.training and all(p.requires_grad for p in base.parameters())


def test_attach_errors():
    with pytest.raises(ValueError, match="no submodule"):
        dynamicnet.attach(sequential(), {"b": "nope"}, ConvTuningBlock)
    with pytest.raises(ValueError, match="cannot tell the output channels"):
        dynamicnet.attach(sequential(), {"b": "1"}, ConvTuningBlock)  # a bare ReLU
    net = dynamicnet.attach(sequential(), {"b": ("1", 8)}, ConvTuningBlock)
    assert net.blocks["default"]["b"].conv0.in_channels == 8


def dual_net():
    torch.manual_seed(0)
    net = dynamicnet.attach(sequential().eval(), {"b0": "0", "b1": "2"}, CountingBlock, variant="dual")
    randomise_blocks(net)
    return net.eval()


def test_dual_uses_high_for_positive_and_low_for_negative():
    net = dual_net()
    base = net.base
    with torch.no_grad():
        # psi_high alone / psi_low alone, through the generic multi-set path as a reference
        high = net(X, alpha=0.7)
        low = net(X, alpha=-0.7)
        zero = net(X, alpha=0.0)
        assert torch.equal(zero, base(X))
        assert not torch.allclose(high, low)
        CountingBlock.calls = 0
        net(X, alpha=0.7)
        assert CountingBlock.calls == 2  # only the high set runs
        # per-sample mixed signs equal separate calls
        mixed = net(X, alpha=torch.tensor([0.7, -0.7]))
        assert torch.allclose(mixed[:1], high[:1], atol=1e-6)
        assert torch.allclose(mixed[1:], low[1:], atol=1e-6)
        # per-block mixed signs: block0 uses low, block1 uses high
        z0 = base[0](X)
        z0 = z0 + 0.5 * net.blocks["low"]["b0"](z0)
        z2 = base[2](base[1](z0))
        z2 = z2 + 0.5 * net.blocks["high"]["b1"](z2)
        assert torch.allclose(net(X, alpha=[-0.5, 0.5]), base[3](z2), atol=1e-6)
    assert net.alpha_range == (-1.0, 1.0)
    assert net.unit_alpha("low") == -1.0 and net.unit_alpha("high") == 1.0


def test_dual_negative_equals_low_set_by_hand():
    net = dual_net()
    with torch.no_grad():
        z0 = net.base[0](X)
        z0 = z0 + 0.4 * net.blocks["low"]["b0"](z0)
        z = net.base[1](z0)
        z2 = net.base[2](z)
        z2 = z2 + 0.4 * net.blocks["low"]["b1"](z2)
        expected = net.base[3](z2)
        assert torch.allclose(net(X, alpha=-0.4), expected, atol=1e-6)


def test_k_sets_add_their_contributions():
    torch.manual_seed(0)
    seq = sequential().eval()
    net = dynamicnet.attach(seq, {"b": "2"}, ConvTuningBlock, variant="multi", sets=["starry", "wave"])
    randomise_blocks(net)
    with torch.no_grad():
        z = seq[1](seq[0](X))
        z2 = seq[2](z)
        mixed = z2 + 0.3 * net.blocks["starry"]["b"](z2) + 0.7 * net.blocks["wave"]["b"](z2)
        assert torch.allclose(net(X, alpha={"starry": 0.3, "wave": 0.7}), seq[3](mixed), atol=1e-6)
        only_wave = net(X, alpha={"wave": 0.7})
        by_hand = seq[3](z2 + 0.7 * net.blocks["wave"]["b"](z2))
        assert torch.allclose(only_wave, by_hand, atol=1e-6)
        # a per-block value inside a set entry, and a float for every set
        assert torch.allclose(net(X, alpha={"starry": [0.3], "wave": {"b": 0.7}}), seq[3](mixed), atol=1e-6)
        assert torch.allclose(net(X, alpha=0.5), net(X, alpha={"starry": 0.5, "wave": 0.5}), atol=1e-6)
    with pytest.raises(AlphaError, match="unknown block set"):
        net(X, alpha={"starry": 0.3, "nope": 1})
    assert net.unit_alpha("wave") == {"wave": 1.0}


def test_extrapolation_is_allowed():
    net = dual_net()
    with torch.no_grad():
        far = net(X, alpha=1.5)
        near = net(X, alpha=1.0)
    assert torch.isfinite(far).all() and not torch.allclose(far, near)


def test_style_network_attach_and_io():
    torch.manual_seed(0)
    model = style.build(style.default_config()).eval()
    randomise_blocks(model.net)
    assert model.block_names == ["block0", "block1", "block2"]
    assert [b.conv0.in_channels for b in model.net.blocks["default"].values()] == [128, 128, 32]
    x = torch.rand(2, 3, 21, 30)
    with torch.no_grad():
        assert torch.equal(model(x, alpha=0.0), model(x))
        scalar = model(x, alpha=0.8)
        assert torch.allclose(model(x, alpha=torch.full((2, 1, 21, 30), 0.8)), scalar, atol=1e-5)
        assert not torch.allclose(scalar, model(x))


def test_deepcopy_and_pickle_give_independent_working_models():
    import copy
    import pickle

    net = dual_net()
    clone = copy.deepcopy(net)
    with torch.no_grad():
        expected = net(X, alpha=0.5)
        assert torch.equal(clone(X, alpha=0.5), expected)
        for p in clone.block_parameters():
            p.add_(1.0)
        assert torch.equal(net(X, alpha=0.5), expected)  # the original is untouched
        assert not torch.allclose(clone(X, alpha=0.5), expected)
        restored = pickle.loads(pickle.dumps(net))
        assert torch.equal(restored(X, alpha=0.5), expected)


def test_two_nets_on_one_base_apply_only_their_own_blocks():
    torch.manual_seed(0)
    base = sequential().eval()
    a = dynamicnet.attach(base, {"b": "2"}, ConvTuningBlock).eval()
    b = dynamicnet.attach(base, {"b": "2"}, ConvTuningBlock).eval()
    randomise_blocks(a)
    with torch.no_grad():
        z = base[2](base[1](base[0](X)))
        assert torch.allclose(a(X, alpha=1.0), base[3](z + a.blocks["default"]["b"](z)), atol=1e-6)
        assert torch.allclose(b(X, alpha=1.0), base[3](z + b.blocks["default"]["b"](z)), atol=1e-6)
        assert torch.equal(base(X), a(X))


def test_concurrent_calls_from_threads_keep_their_own_alpha():
    from concurrent.futures import ThreadPoolExecutor

    net = dual_net()
    alphas = [-1.0, -0.3, 0.0, 0.4, 1.0] * 4
    with torch.no_grad():
        expected = {a: net(X, alpha=a) for a in set(alphas)}

        def run(a):
            with torch.no_grad():
                return a, net(X, alpha=a)

        with ThreadPoolExecutor(4) as pool:
            for a, y in pool.map(run, alphas):
                assert torch.equal(y, expected[a])


def test_bad_names_and_values_are_refused():
    with pytest.raises(ValueError, match="identifier"):
        dynamicnet.attach(sequential(), {"b": "0"}, ConvTuningBlock, variant="multi", sets=["main"])
    with pytest.raises(ValueError, match="identifier"):
        dynamicnet.attach(sequential(), {"a.b": "0"}, ConvTuningBlock)
    with pytest.raises(ValueError, match="same submodule"):
        dynamicnet.attach(sequential(), {"a": "0", "b": "0"}, ConvTuningBlock)
    net = dual_net()
    with pytest.raises(AlphaError, match="finite"):
        net(X, alpha=float("nan"))
    with pytest.raises(AlphaError, match="non-finite"):
        net(X, alpha=torch.tensor([0.1, float("inf")]))
