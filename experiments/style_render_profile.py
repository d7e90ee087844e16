"""Where a style network's render time goes: per layer, per operation, and with a render context.

    python experiments/style_render_profile.py                       # both architectures, 512 x 384
    python experiments/style_render_profile.py --model starry-level --size 1024x768

For each network (random tuning blocks when built from an architecture name): the
Renderer's full render of a new image at alpha 1 (median of --repeats, the prefix cache
cleared each time), the same with 32 px of render context, the time of each top-level
layer (its tuning block included), and the share of each operation in a profiled render.
It also times the two ways of computing instance-norm statistics of a 16-channel
full-size bf16 map that the Renderer chose between. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
import torch.nn.functional as F
from torch.profiler import profile

import dynamicnet
from dynamicnet.tasks.style import model as style


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", action="append", help="model names or files (default: both architectures)")
    p.add_argument("--size", default="512x384", help="WIDTHxHEIGHT")
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"])
    return p


def median_ms(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def random_model(architecture: str) -> style.StyleModel:
    torch.manual_seed(0)
    model = style.build(style.default_config(architecture=architecture))
    with torch.no_grad():
        for p in model.net.block_parameters():
            p.normal_(0, 0.05)
    return model.eval()


def full_render(renderer: dynamicnet.Renderer, x: torch.Tensor):
    def run():
        renderer.clear_cache()
        renderer(x, alpha=1.0)

    return run


def layer_times(renderer: dynamicnet.Renderer, x: torch.Tensor, repeats: int) -> dict[str, float]:
    """Median ms per top-level layer; a layer's tuning block runs in its forward hooks, so it counts."""
    inside, alpha, _ = renderer.model.prepare(x.unsqueeze(0))
    h = inside.to(renderer._dtype, memory_format=renderer._format)
    names = [name for name, _ in renderer.net.base.named_children()]
    times: dict[str, list[float]] = {name: [] for name in names}
    with torch.inference_mode(), renderer.net.tuned(1.0):
        for rep in range(repeats + 1):
            z = h
            for name, layer in zip(names, renderer.net.base):
                t0 = time.perf_counter()
                z = layer(z)
                if rep:
                    times[name].append((time.perf_counter() - t0) * 1000)
    return {name: statistics.median(t) for name, t in times.items()}


def operation_shares(run, renders: int = 5) -> list[tuple[str, float]]:
    run()
    with profile() as prof:
        for _ in range(renders):
            run()
    events = [(e.key, e.self_cpu_time_total) for e in prof.key_averages()]
    total = sum(t for _, t in events)
    return sorted(((k, t / total) for k, t in events), key=lambda e: -e[1])[:6]


def main(argv: list[str] | None = None) -> None:
    args = get_args_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    width, height = map(int, args.size.split("x"))
    x = torch.rand(3, height, width, generator=torch.Generator().manual_seed(0))
    print(f"torch {torch.__version__}, {args.threads} threads, {width}x{height}, alpha 1")

    m = torch.randn(1, 16, height, width).to(torch.bfloat16, memory_format=torch.channels_last)
    weight, bias = torch.ones(16, dtype=torch.bfloat16), torch.zeros(16, dtype=torch.bfloat16)
    with torch.inference_mode():
        var_mean = median_ms(lambda: torch.var_mean(m, dim=(2, 3), correction=0), args.repeats)
        batch_norm = median_ms(
            lambda: F.batch_norm(m, None, None, weight, bias, True, 0.0, 1e-5), args.repeats
        )
    print(f"instance-norm statistics of a 16-channel bf16 map: var_mean {var_mean:.1f} ms, "
          f"batch_norm (statistics and normalisation) {batch_norm:.1f} ms")  # fmt: skip

    specs = args.model or list(style.ARCHITECTURES)
    for spec in specs:
        model = random_model(spec) if spec in style.ARCHITECTURES else dynamicnet.load(spec)
        renderer = dynamicnet.Renderer(model, precision=args.precision)
        run = full_render(renderer, x)
        plain = median_ms(run, args.repeats)
        framed_model = copy.copy(model)  # the Renderer copies the weights; only the metadata differs
        framed_model.config = dict(model.config, render_context=32)
        framed_renderer = dynamicnet.Renderer(framed_model, precision=args.precision)
        framed = median_ms(full_render(framed_renderer, x), args.repeats)
        print(f"\n{spec} ({model.config['architecture']}, {renderer.precision}, "
              f"render context {model.context} px):")  # fmt: skip
        print(f"  full render {plain:.1f} ms; with a 32 px render context {framed:.1f} ms")
        layers = layer_times(renderer, x, args.repeats)
        print("  per layer (ms): " + ", ".join(f"{k} {v:.1f}" for k, v in layers.items()))
        print(f"  sum of layers {sum(layers.values()):.1f} ms")
        print("  operations: " + ", ".join(f"{k} {share:.0%}" for k, share in operation_shares(run)))


if __name__ == "__main__":
    main()
