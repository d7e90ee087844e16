"""Tuning blocks on any PyTorch model.

``attach`` freezes a model and hooks small residual blocks onto named submodules: the
output ``z`` of each listed submodule becomes ``z + sum_s alpha_s * psi_s(z)``, one term
per block set ``s``. Nothing here knows what the model does; skips, branches and
arbitrary control flow in the base keep working because only submodule outputs change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from torch import Tensor, nn

from . import alpha as alpha_mod
from .alpha import AlphaError, AlphaLike, Coefficient

BlockFactory = Callable[[int], nn.Module]

DUAL_SETS = ("high", "low")
RESERVED_NAMES = frozenset({"main", "base"})  # the trainer's name for the main network


@dataclass
class _Call:
    """One DynamicNet forward in progress: which hooked submodule is which block, and the alphas."""

    net: DynamicNet
    hooked: dict[int, str]
    active: dict[str, dict[str, Coefficient]]
    fitted: dict = field(default_factory=dict)  # (id(coefficient), feature shape) -> resized map


_calls = threading.local()  # per thread: a stack of _Call (nesting and threads both work)


def _tuning_hook(module: nn.Module, args, z):
    """The one forward hook every insertion point carries.

    A module-level function holding no reference to any model, so hooked models can be
    deep-copied and pickled; the running forward call says which blocks apply.
    """
    for call in reversed(getattr(_calls, "stack", ())):
        name = call.hooked.get(id(module))
        if name is not None:
            return call.net._apply_blocks(name, z, call)
    return None


def _check_name(name: str, what: str) -> None:
    if not isinstance(name, str) or not name.isidentifier() or name in RESERVED_NAMES:
        raise ValueError(
            f"{what} name {name!r} must be a Python identifier and not one of {sorted(RESERVED_NAMES)}"
        )


def infer_channels(module: nn.Module) -> int:
    """Output channels of a submodule, read from its last layer that declares them."""
    for layer in reversed(list(module.modules())):
        for attr in ("out_channels", "num_features", "out_features"):
            value = getattr(layer, attr, None)
            if isinstance(value, int):
                return value
    raise ValueError(
        f"cannot tell the output channels of {type(module).__name__}; "
        "give them explicitly: at={'name': ('path.to.module', channels)}"
    )


class DynamicNet(nn.Module):
    """A frozen base model plus block sets, called as ``net(*inputs, alpha=...)``.

    Every alpha form of :func:`dynamicnet.core.alpha.resolve` is accepted. With alpha
    zero everywhere no block runs and the output is the base model's, bit for bit.
    """

    def __init__(
        self,
        base: nn.Module,
        points: Mapping[str, str],
        blocks: Mapping[str, Mapping[str, nn.Module]],
        variant: str = "single",
    ) -> None:
        super().__init__()
        if variant not in alpha_mod.VARIANTS:
            raise ValueError(f"variant must be one of {alpha_mod.VARIANTS}, got {variant!r}")
        if variant == "dual" and tuple(blocks) != DUAL_SETS:
            raise ValueError(f"a dual model has exactly the block sets {DUAL_SETS}")
        if variant == "single" and len(blocks) != 1:
            raise ValueError("a single-variant model has exactly one block set")
        clash = set(blocks) & set(points)
        if clash:
            raise ValueError(f"names used for both a block set and a block: {sorted(clash)}")
        for name in points:
            _check_name(name, "block")
        for name in blocks:
            _check_name(name, "block set")
        if len(set(points.values())) != len(points):
            raise ValueError("two blocks at the same submodule: give each insertion point once")
        self.base = base
        self.points = dict(points)
        self.variant = variant
        self.blocks = nn.ModuleDict({s: nn.ModuleDict(dict(bs)) for s, bs in blocks.items()})
        for s, bs in self.blocks.items():
            if list(bs) != list(self.points):
                raise ValueError(f"block set {s!r} must have the blocks {list(self.points)}")
        for path in self.points.values():
            module = base.get_submodule(path)
            if _tuning_hook not in module._forward_hooks.values():
                module.register_forward_hook(_tuning_hook)
        self.base_frozen = False
        self.freeze_base()

    # --- names and ranges -------------------------------------------------------------
    @property
    def block_names(self) -> list[str]:
        return list(self.points)

    @property
    def set_names(self) -> list[str]:
        return list(self.blocks)

    @property
    def alpha_range(self) -> tuple[float, float]:
        """The trained range; values outside it extrapolate (allowed, not trained for)."""
        return (-1.0, 1.0) if self.variant == "dual" else (0.0, 1.0)

    def unit_alpha(self, set_name: str) -> AlphaLike:
        """The alpha at which block set ``set_name`` is fully on and every other set off."""
        if set_name not in self.blocks:
            raise KeyError(set_name)
        if self.variant == "dual":
            return 1.0 if set_name == "high" else -1.0
        if self.variant == "multi":
            return {set_name: 1.0}
        return 1.0

    # --- freezing ---------------------------------------------------------------------
    def freeze_base(self) -> None:
        """Base gets no gradient and stays in eval mode (BatchNorm statistics do not drift)."""
        self.base_frozen = True
        self.base.requires_grad_(False)
        self.base.eval()

    def unfreeze_base(self) -> None:
        """For training the main network itself (phase 1)."""
        self.base_frozen = False
        self.base.requires_grad_(True)
        self.base.train(self.training)

    def train(self, mode: bool = True) -> DynamicNet:
        super().train(mode)
        if self.base_frozen:
            self.base.eval()
        return self

    def block_parameters(self, set_name: str | None = None) -> Iterator[nn.Parameter]:
        sets = self.blocks.values() if set_name is None else [self.blocks[set_name]]
        for bs in sets:
            yield from bs.parameters()

    # --- forward ----------------------------------------------------------------------
    def coefficients(self, alpha: AlphaLike) -> dict[str, dict[str, Coefficient]]:
        return alpha_mod.resolve(alpha, variant=self.variant, sets=self.set_names, blocks=self.block_names)

    def check_alpha(self, *alphas: AlphaLike) -> None:
        """Raise :class:`AlphaError` for an alpha this network cannot take (unknown names,
        wrong counts, non-finite values): callers check before any work, not midway."""
        for alpha in alphas:
            self.coefficients(alpha)

    def forward(self, *inputs, alpha: AlphaLike = 0.0, **kwargs):
        with self.tuned(alpha):
            return self.base(*inputs, **kwargs)

    @contextmanager
    def tuned(self, alpha: AlphaLike) -> Iterator[None]:
        """Apply the blocks at ``alpha`` to every base submodule run inside the ``with``.

        For running the base piecewise (e.g. reusing the layers before the first block
        across alphas); ``net(x, alpha=a)`` is ``with net.tuned(a): net.base(x)``.
        """
        active = {s: c for s, c in self.coefficients(alpha).items() if c}
        if not active:  # alpha = 0 everywhere: the base model, no block runs
            yield
            return
        hooked = {id(self.base.get_submodule(path)): name for name, path in self.points.items()}
        stack = _calls.__dict__.setdefault("stack", [])
        stack.append(_Call(self, hooked, active))
        try:
            yield
        finally:
            stack.pop()

    def tune(self, name: str, z: Tensor) -> Tensor:
        """``z`` plus block ``name``'s terms at the alpha of the innermost :meth:`tuned`.

        For a feature map computed outside the hooked submodule, e.g. one taken from a cache.
        """
        if name not in self.points:
            raise KeyError(name)
        for call in reversed(getattr(_calls, "stack", ())):
            if call.net is self:
                out = self._apply_blocks(name, z, call)
                return z if out is None else out
        return z

    def _apply_blocks(self, name: str, z, call: _Call):
        if not isinstance(z, Tensor):
            raise TypeError(f"block {name!r}: submodule output is {type(z).__name__}, not a tensor")
        delta = None
        for set_name, per_block in call.active.items():
            c = per_block.get(name)
            if c is None:
                continue
            key = (id(c), z.shape, z.dtype)
            if key not in call.fitted:
                call.fitted[key] = alpha_mod.fit_to(c, z)
            term = self.blocks[set_name][name](z) * call.fitted[key]
            delta = term if delta is None else delta + term
        return None if delta is None else z + delta


def attach(
    model: nn.Module,
    at: Mapping[str, str | tuple[str, int]],
    block: BlockFactory,
    *,
    variant: str = "single",
    sets: Sequence[str] | None = None,
) -> DynamicNet:
    """Freeze ``model`` and add tuning blocks at the named submodules.

    ``at`` maps block names to submodule paths (as in ``model.get_submodule``), or to
    ``(path, channels)`` where the channels cannot be read off the submodule.
    ``block(channels)`` builds one block; each set gets its own blocks.
    ``variant`` is "single" (one set), "dual" (sets "high"/"low", alpha in [-1, 1]) or
    "multi" (the named ``sets``, alpha given as a dict by set name).
    """
    if not at:
        raise ValueError("attach needs at least one insertion point")
    if variant == "single":
        set_names = list(sets or ["default"])
    elif variant == "dual":
        set_names = list(DUAL_SETS)
    elif variant == "multi":
        if not sets:
            raise ValueError("a multi-set model needs set names: sets=['starry', 'wave']")
        set_names = list(sets)
    else:
        raise ValueError(f"variant must be one of {alpha_mod.VARIANTS}, got {variant!r}")
    points: dict[str, str] = {}
    channels: dict[str, int] = {}
    for name, spec in at.items():
        path, ch = (spec, None) if isinstance(spec, str) else spec
        try:
            sub = model.get_submodule(path)
        except AttributeError as err:
            raise ValueError(f"block {name!r}: the model has no submodule {path!r}") from err
        points[name] = path
        channels[name] = ch if ch is not None else infer_channels(sub)
    blocks = {s: {name: block(channels[name]) for name in points} for s in set_names}
    return DynamicNet(model, points, blocks, variant)


__all__ = ["AlphaError", "BlockFactory", "DynamicNet", "attach", "infer_channels"]
