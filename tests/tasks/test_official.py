"""Importing the authors' style checkpoints gives a model that computes what theirs computes.

The reference below is an independent plain-PyTorch rewrite of the authors' network, built
from the reference notes with their module names, so that its ``state_dict()`` has the
official key layout. It is randomised, saved with ``torch.save`` and imported; the
imported model must then match it for every alpha form.
"""

from __future__ import annotations

import random

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

import dynamicnet
from dynamicnet.cli.main import main as cli_main
from dynamicnet.tasks.official import OfficialImportError, import_official

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
TOL = 1e-5
H, W = 32, 40


# --- the reference network (authors' layout) -------------------------------------------
class RefConvLayer(nn.Module):
    """Reflection pad of k // 2, then a convolution named ``conv2d``."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1) -> None:
        super().__init__()
        self.pad = kernel // 2
        self.conv2d = nn.Conv2d(cin, cout, kernel, stride)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv2d(F.pad(x, (self.pad,) * 4, mode="reflect"))


class RefUpsampleConvLayer(nn.Module):
    """Nearest x2 upsampling, then reflection pad and a convolution named ``conv2d``."""

    def __init__(self, cin: int, cout: int, kernel: int) -> None:
        super().__init__()
        self.pad = kernel // 2
        self.conv2d = nn.Conv2d(cin, cout, kernel, 1)

    def forward(self, x: Tensor) -> Tensor:
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        return self.conv2d(F.pad(x, (self.pad,) * 4, mode="reflect"))


class RefResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = RefConvLayer(channels, channels, 3)
        self.in1 = nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = RefConvLayer(channels, channels, 3)
        self.in2 = nn.InstanceNorm2d(channels, affine=True)

    def forward(self, x: Tensor) -> Tensor:
        y = F.relu(self.in1(self.conv1(x)))
        return x + self.in2(self.conv2(y))


class RefMain(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = RefConvLayer(3, 32, 9)
        self.in1 = nn.InstanceNorm2d(32, affine=True)
        self.conv2 = RefConvLayer(32, 64, 3, stride=2)
        self.in2 = nn.InstanceNorm2d(64, affine=True)
        self.conv3 = RefConvLayer(64, 128, 3, stride=2)
        self.in3 = nn.InstanceNorm2d(128, affine=True)
        self.res1 = RefResidualBlock(128)
        self.res2 = RefResidualBlock(128)
        self.res3 = RefResidualBlock(128)
        self.res4 = RefResidualBlock(128)
        self.res5 = RefResidualBlock(128)
        self.deconv1 = RefUpsampleConvLayer(128, 64, 3)
        self.in4 = nn.InstanceNorm2d(64, affine=True)
        self.deconv2 = RefUpsampleConvLayer(64, 32, 3)
        self.in5 = nn.InstanceNorm2d(32, affine=True)
        self.deconv3 = RefConvLayer(32, 3, 9)


class RefTuningBlock(nn.Module):
    """pad 1, conv0, ReLU, pad 1, conv1, ReLU, pad 1, conv2 (no norm, no final activation)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv0 = nn.Conv2d(channels, channels, 3)
        self.conv1 = nn.Conv2d(channels, channels, 3)
        self.conv2 = nn.Conv2d(channels, channels, 3)

    def forward(self, z: Tensor) -> Tensor:
        z = F.relu(self.conv0(F.pad(z, (1, 1, 1, 1), mode="reflect")))
        z = F.relu(self.conv1(F.pad(z, (1, 1, 1, 1), mode="reflect")))
        return self.conv2(F.pad(z, (1, 1, 1, 1), mode="reflect"))


def _ref_block_set() -> nn.ModuleDict:
    return nn.ModuleDict(
        {
            "tuning_block0": RefTuningBlock(128),
            "tuning_block1": RefTuningBlock(128),
            "tuning_block2": RefTuningBlock(32),
        }
    )


class RefDynamicNet(nn.Module):
    """The authors' dynamic style network; ``forward(x, alphas)`` takes RGB in [0, 1]."""

    def __init__(self, dual: bool = False) -> None:
        super().__init__()
        self.dual = dual
        self.main = RefMain()
        if dual:
            self.tuning_blocks_lower = _ref_block_set()
            self.tuning_blocks_higher = _ref_block_set()
        else:
            self.tuning_blocks = _ref_block_set()

    def _tune(self, index: int, z: Tensor, a: float) -> Tensor:
        name = f"tuning_block{index}"
        if a == 0:
            return z
        if not self.dual:
            return z + a * self.tuning_blocks[name](z)
        if a > 0:
            return z + a * self.tuning_blocks_higher[name](z)
        return z + (-a) * self.tuning_blocks_lower[name](z)

    def forward(self, x: Tensor, alphas: tuple[float, float, float]) -> Tensor:
        m = self.main
        y = (x - MEAN) / STD
        y = F.relu(m.in1(m.conv1(y)))
        y = F.relu(m.in2(m.conv2(y)))
        y = F.relu(m.in3(m.conv3(y)))
        y = m.res2(m.res1(y))
        y = self._tune(0, y, alphas[0])
        y = m.res5(m.res4(m.res3(y)))
        y = self._tune(1, y, alphas[1])
        y = F.relu(m.in4(m.deconv1(y)))
        y = F.relu(m.in5(m.deconv2(y)))
        y = self._tune(2, y, alphas[2])
        y = m.deconv3(y)
        return y * STD + MEAN


def _randomised(dual: bool, seed: int) -> RefDynamicNet:
    torch.manual_seed(seed)
    net = RefDynamicNet(dual=dual)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.InstanceNorm2d):
                module.weight.normal_(1.0, 0.3)
                module.bias.normal_(0.0, 0.3)
            elif isinstance(module, nn.Conv2d):
                module.bias.normal_(0.0, 0.05)
        # Make the blocks matter: default-init blocks give small contributions.
        for name, param in net.named_parameters():
            if name.startswith("tuning_blocks") and name.endswith("weight"):
                param.mul_(2.0)
    return net.eval()


# --- fixtures ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ref_normal() -> RefDynamicNet:
    return _randomised(dual=False, seed=1234)


@pytest.fixture(scope="module")
def ref_dual() -> RefDynamicNet:
    return _randomised(dual=True, seed=4321)


@pytest.fixture(scope="module")
def normal_ckpt(ref_normal, tmp_path_factory):
    path = tmp_path_factory.mktemp("official") / "dynamic_net.pth"
    torch.save(ref_normal.state_dict(), path)
    return path


@pytest.fixture(scope="module")
def dual_ckpt(ref_dual, tmp_path_factory):
    path = tmp_path_factory.mktemp("official") / "dynamic_net_dual.pth"
    torch.save(ref_dual.state_dict(), path)
    return path


@pytest.fixture(scope="module")
def ours_normal(normal_ckpt):
    return import_official(normal_ckpt, "normal")


@pytest.fixture(scope="module")
def ours_dual(dual_ckpt):
    return import_official(dual_ckpt, "dual")


@pytest.fixture(scope="module")
def x1() -> Tensor:
    return torch.rand(1, 3, H, W, generator=torch.Generator().manual_seed(7))


@pytest.fixture(scope="module")
def x2() -> Tensor:
    return torch.rand(2, 3, H, W, generator=torch.Generator().manual_seed(8))


# --- helpers ----------------------------------------------------------------------------
def _ours(model, x: Tensor, alpha) -> Tensor:
    with torch.no_grad():
        return model(x, alpha=alpha)


def _ref(ref: RefDynamicNet, x: Tensor, alphas) -> Tensor:
    with torch.no_grad():
        return ref(x, tuple(float(a) for a in alphas))


def _ref_per_sample(ref: RefDynamicNet, x: Tensor, alphas_per_sample) -> Tensor:
    return torch.cat([_ref(ref, x[i : i + 1], a) for i, a in enumerate(alphas_per_sample)])


def _assert_close(ours: Tensor, ref: Tensor) -> None:
    assert ours.shape == ref.shape
    diff = (ours - ref).abs().max().item()
    assert diff <= TOL, f"max abs difference {diff:.3g} > {TOL}"


# --- the reference itself ---------------------------------------------------------------
def _official_keys(block_sets: list[str]) -> set[str]:
    keys = set()
    wb = ("weight", "bias")
    for i in (1, 2, 3):
        keys |= {f"main.conv{i}.conv2d.{p}" for p in wb} | {f"main.in{i}.{p}" for p in wb}
    for r in range(1, 6):
        for j in (1, 2):
            keys |= {f"main.res{r}.conv{j}.conv2d.{p}" for p in wb}
            keys |= {f"main.res{r}.in{j}.{p}" for p in wb}
    for i in (1, 2):
        keys |= {f"main.deconv{i}.conv2d.{p}" for p in wb}
    keys |= {f"main.in4.{p}" for p in wb} | {f"main.in5.{p}" for p in wb}
    keys |= {f"main.deconv3.conv2d.{p}" for p in wb}
    for s in block_sets:
        for b in range(3):
            keys |= {f"{s}.tuning_block{b}.conv{c}.{p}" for c in range(3) for p in wb}
    return keys


def test_reference_has_the_official_key_layout(ref_normal, ref_dual):
    assert set(ref_normal.state_dict()) == _official_keys(["tuning_blocks"])
    assert set(ref_dual.state_dict()) == _official_keys(["tuning_blocks_lower", "tuning_blocks_higher"])
    state = ref_normal.state_dict()
    assert state["tuning_blocks.tuning_block0.conv0.weight"].shape == (128, 128, 3, 3)
    assert state["tuning_blocks.tuning_block2.conv2.weight"].shape == (32, 32, 3, 3)
    assert state["main.conv1.conv2d.weight"].shape == (32, 3, 9, 9)
    assert state["main.deconv3.conv2d.weight"].shape == (3, 32, 9, 9)


def test_blocks_change_the_output(ref_normal, ref_dual, x1):
    # Otherwise the comparisons below could pass while ignoring the blocks.
    base = _ref(ref_normal, x1, (0, 0, 0))
    for alphas in [(1, 0, 0), (0, 1, 0), (0, 0, 1)]:
        assert (_ref(ref_normal, x1, alphas) - base).abs().max() > 1e-2
    base = _ref(ref_dual, x1, (0, 0, 0))
    high = _ref(ref_dual, x1, (1, 1, 1))
    low = _ref(ref_dual, x1, (-1, -1, -1))
    assert (high - base).abs().max() > 1e-2
    assert (low - base).abs().max() > 1e-2
    assert (high - low).abs().max() > 1e-2


# --- normal variant -----------------------------------------------------------------------
def test_imported_model_shape(ours_normal, ours_dual):
    assert ours_normal.variant == "single"
    assert ours_normal.block_names == ["block0", "block1", "block2"]
    assert ours_dual.variant == "dual"
    assert sorted(ours_dual.set_names) == ["high", "low"]
    assert not ours_normal.training


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0, 1.7])
def test_normal_scalar_alpha(ours_normal, ref_normal, x1, x2, alpha):
    for x in (x1, x2):
        _assert_close(_ours(ours_normal, x, alpha), _ref(ref_normal, x, (alpha,) * 3))


def test_normal_scalar_tensor_alpha(ours_normal, ref_normal, x2):
    _assert_close(_ours(ours_normal, x2, torch.tensor(0.8)), _ref(ref_normal, x2, (0.8,) * 3))


def test_normal_per_block_list(ours_normal, ref_normal, x1, x2):
    for x in (x1, x2):
        _assert_close(_ours(ours_normal, x, [0.2, 0.7, 1.0]), _ref(ref_normal, x, (0.2, 0.7, 1.0)))


def test_normal_per_block_dict(ours_normal, ref_normal, x2):
    _assert_close(_ours(ours_normal, x2, {"block1": 0.7}), _ref(ref_normal, x2, (0.0, 0.7, 0.0)))
    _assert_close(
        _ours(ours_normal, x2, {"block0": 0.4, "block2": 1.2}), _ref(ref_normal, x2, (0.4, 0.0, 1.2))
    )


def test_normal_per_sample_tensor(ours_normal, ref_normal, x2):
    ours = _ours(ours_normal, x2, torch.tensor([0.3, 0.9]))
    _assert_close(ours, _ref_per_sample(ref_normal, x2, [(0.3,) * 3, (0.9,) * 3]))


def test_normal_constant_spatial_map(ours_normal, ref_normal, x1, x2):
    for x in (x1, x2):
        amap = torch.full((x.shape[0], 1, H, W), 0.6)
        _assert_close(_ours(ours_normal, x, amap), _ref(ref_normal, x, (0.6,) * 3))


def test_normal_tensor_inside_per_block_list(ours_normal, ref_normal, x2):
    ours = _ours(ours_normal, x2, [0.2, torch.tensor([0.3, 0.9]), 1.0])
    _assert_close(ours, _ref_per_sample(ref_normal, x2, [(0.2, 0.3, 1.0), (0.2, 0.9, 1.0)]))
    amap = torch.full((2, 1, H, W), 0.5)
    ours = _ours(ours_normal, x2, [torch.tensor(0.1), 0.0, amap])
    _assert_close(ours, _ref(ref_normal, x2, (0.1, 0.0, 0.5)))


# --- dual variant -------------------------------------------------------------------------
@pytest.mark.parametrize("alpha", [-1.0, -0.4, 0.0, 0.5, 1.0])
def test_dual_scalar_alpha(ours_dual, ref_dual, x1, x2, alpha):
    for x in (x1, x2):
        _assert_close(_ours(ours_dual, x, alpha), _ref(ref_dual, x, (alpha,) * 3))


def test_dual_mixed_sign_per_block_list(ours_dual, ref_dual, x1, x2):
    for x in (x1, x2):
        _assert_close(_ours(ours_dual, x, [-0.5, 0.3, 1.0]), _ref(ref_dual, x, (-0.5, 0.3, 1.0)))


def test_dual_mixed_sign_per_sample_tensor(ours_dual, ref_dual, x2):
    ours = _ours(ours_dual, x2, torch.tensor([-0.6, 0.8]))
    _assert_close(ours, _ref_per_sample(ref_dual, x2, [(-0.6,) * 3, (0.8,) * 3]))


def test_dual_negative_spatial_map(ours_dual, ref_dual, x2):
    amap = torch.full((2, 1, H, W), -0.6)
    _assert_close(_ours(ours_dual, x2, amap), _ref(ref_dual, x2, (-0.6,) * 3))


# --- the command line -----------------------------------------------------------------------
def test_cli_import_official(normal_ckpt, ref_normal, x2, tmp_path, capsys):
    out = tmp_path / "imported.safetensors"
    assert cli_main(["import-official", str(normal_ckpt), "--variant", "normal", "--out", str(out)]) == 0
    assert out.is_file()
    capsys.readouterr()
    model = dynamicnet.load(out)
    assert not model.training
    for alpha, alphas in [(0.0, (0.0,) * 3), (1.0, (1.0,) * 3), ([0.2, 0.7, 1.0], (0.2, 0.7, 1.0))]:
        _assert_close(_ours(model, x2, alpha), _ref(ref_normal, x2, alphas))
    meta = dynamicnet.read_metadata(out)
    assert meta["variant"] == "single"
    assert meta["source"]["variant"] == "normal"


def test_cli_import_official_bad_checkpoint_exits_nonzero(tmp_path, capsys):
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    out = tmp_path / "never.safetensors"
    assert cli_main(["import-official", str(bad), "--variant", "normal", "--out", str(out)]) != 0
    assert "error" in capsys.readouterr().err
    assert not out.exists()


# --- refusing bad checkpoints ---------------------------------------------------------------
def _save(state, path):
    torch.save(state, path)
    return path


def test_missing_key(ref_normal, tmp_path):
    state = ref_normal.state_dict()
    del state["main.res3.in2.bias"]
    with pytest.raises(OfficialImportError, match="lacks"):
        import_official(_save(state, tmp_path / "missing.pth"), "normal")


def test_missing_block_key(ref_normal, tmp_path):
    state = ref_normal.state_dict()
    del state["tuning_blocks.tuning_block2.conv1.weight"]
    with pytest.raises(OfficialImportError):
        import_official(_save(state, tmp_path / "missing_block.pth"), "normal")


def test_wrong_shape(ref_normal, tmp_path):
    state = ref_normal.state_dict()
    state["main.in1.weight"] = torch.ones(31)
    with pytest.raises(OfficialImportError, match="shape"):
        import_official(_save(state, tmp_path / "shape.pth"), "normal")
    state = ref_normal.state_dict()
    state["tuning_blocks.tuning_block2.conv0.weight"] = torch.zeros(128, 128, 3, 3)
    with pytest.raises(OfficialImportError, match="shape"):
        import_official(_save(state, tmp_path / "shape2.pth"), "normal")


def test_unexpected_key(ref_normal, tmp_path):
    state = ref_normal.state_dict()
    state["main.res6.conv1.conv2d.weight"] = torch.zeros(128, 128, 3, 3)
    with pytest.raises(OfficialImportError):
        import_official(_save(state, tmp_path / "extra.pth"), "normal")


def test_variant_mismatch(normal_ckpt, dual_ckpt):
    with pytest.raises(OfficialImportError):
        import_official(normal_ckpt, "dual")
    with pytest.raises(OfficialImportError):
        import_official(dual_ckpt, "normal")
    with pytest.raises(OfficialImportError):
        import_official(normal_ckpt, "triple")


def test_not_a_torch_file(tmp_path):
    path = tmp_path / "noise.pth"
    path.write_bytes(random.Random(0).randbytes(4096))
    with pytest.raises(OfficialImportError):
        import_official(path, "normal")


def test_missing_file(tmp_path):
    with pytest.raises(OfficialImportError):
        import_official(tmp_path / "absent.pth", "normal")


def test_not_a_state_dict(tmp_path):
    with pytest.raises(OfficialImportError):
        import_official(_save(torch.zeros(3), tmp_path / "tensor.pth"), "normal")


def test_non_tensor_entry(ref_normal, tmp_path):
    state = ref_normal.state_dict()
    state["main.in1.weight"] = "not a tensor"
    with pytest.raises(OfficialImportError, match="not a floating-point tensor"):
        import_official(_save(state, tmp_path / "string.pth"), "normal")


_EXECUTED: list[str] = []


def _record(tag: str) -> Tensor:
    _EXECUTED.append(tag)
    return torch.zeros(32)


class _Payload:
    """Unpickles into a call of ``_record``: proof of execution if it ever runs."""

    def __reduce__(self):
        return (_record, ("payload ran",))


class _PlainObject:
    def __init__(self) -> None:
        self.value = 3


def test_pickled_python_objects_are_refused_not_run(ref_normal, tmp_path):
    state = ref_normal.state_dict()
    state["main.in1.weight"] = _Payload()
    payload = _save(state, tmp_path / "payload.pth")
    state = ref_normal.state_dict()
    state["main.in1.bias"] = _PlainObject()
    plain = _save(state, tmp_path / "plain.pth")

    _EXECUTED.clear()
    with pytest.raises(OfficialImportError):
        import_official(payload, "normal")
    with pytest.raises(OfficialImportError):
        import_official(plain, "normal")
    assert _EXECUTED == []

    # The payload is live: a full unpickling would have run it.
    torch.load(payload, weights_only=False)
    assert _EXECUTED == ["payload ran"]
    _EXECUTED.clear()


@pytest.mark.parametrize(
    "bad",
    [
        {1: torch.zeros(3)},  # non-string key
        {"main.res1.in1.conv2d.weight": torch.zeros(128)},  # not an official spelling
        {"main.res1.conv1.weight": torch.zeros(128, 128, 3, 3)},  # conv without .conv2d
        {"main.in1.weight": torch.zeros(32, dtype=torch.int64)},  # integer tensor
    ],
)
def test_malformed_keys_and_values(tmp_path, bad):
    path = tmp_path / "odd.pth"
    torch.save(bad, path)
    with pytest.raises(OfficialImportError):
        import_official(path, "normal")


# --- the DCGAN (authors' layout: main.layer{0..4}, tuning_blocks.tuning_block0) ---------------
class RefDCGAN(nn.Module):
    def __init__(self, latent: int = 12, ngf: int = 4) -> None:
        super().__init__()

        def layer(cin: int, cout: int, stride: int, pad: int) -> nn.Sequential:
            return nn.Sequential(
                nn.ConvTranspose2d(cin, cout, 4, stride, pad, bias=False), nn.BatchNorm2d(cout), nn.ReLU()
            )

        self.main = nn.Module()
        self.main.layer0 = layer(latent, ngf * 8, 1, 0)
        self.main.layer1 = layer(ngf * 8, ngf * 4, 2, 1)
        self.main.layer2 = layer(ngf * 4, ngf * 2, 2, 1)
        self.main.layer3 = layer(ngf * 2, ngf, 2, 1)
        self.main.layer4 = nn.Sequential(nn.ConvTranspose2d(ngf, 3, 4, 2, 1, bias=False), nn.Tanh())
        self.tuning_blocks = nn.Module()
        self.tuning_blocks.tuning_block0 = RefTuningBlock(ngf * 2)

    def forward(self, z: Tensor, alpha: float) -> Tensor:
        m = self.main
        x = m.layer2(m.layer1(m.layer0(z)))
        x = x + alpha * self.tuning_blocks.tuning_block0(x)
        return m.layer4(m.layer3(x))


def test_dcgan_import_matches_the_reference(tmp_path, capsys):
    torch.manual_seed(0)
    ref = RefDCGAN()
    with torch.no_grad():
        for name, t in ref.state_dict().items():
            if t.is_floating_point():
                t.copy_(
                    torch.rand_like(t) * 0.5 + 0.5 if "running_var" in name else torch.randn_like(t) * 0.2
                )
    ref.eval()
    state = {k: v for k, v in ref.state_dict().items() if not k.endswith("num_batches_tracked")}
    torch.save(state, tmp_path / "netG.pth")  # as an older PyTorch saved it: no BatchNorm counters
    assert (
        cli_main(
            [
                "import-official",
                str(tmp_path / "netG.pth"),
                "--variant",
                "dcgan",
                "--out",
                str(tmp_path / "g.safetensors"),
            ]
        )
        == 0
    )
    ours = dynamicnet.load(tmp_path / "g.safetensors")
    assert ours.task == "gan" and ours.latent == 12
    z = torch.randn(3, 12)
    with torch.no_grad():
        for alpha in (0.0, 0.4, 1.0):
            expected = (ref(z[:, :, None, None], alpha) + 1) / 2
            assert torch.allclose(ours(z, alpha=alpha), expected, atol=TOL), alpha
    with pytest.raises(OfficialImportError, match="normal"):
        import_official(tmp_path / "netG.pth", "normal")
