"""Two or more objective-space studies of one objective pair side by side: the knob
position that best emulates each fixed network, against m (docs/results/objective-space.md).

    python tools/compare_objective_space.py A/results.json B/results.json \\
        --label "blocks at alpha 1" --label "blocks across alpha" --out alpha-map.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dynamicnet.tasks.style.study_report import plot_alpha_map


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", nargs="+", help="results.json of each study")
    p.add_argument("--label", action="append", default=[], help="one per study (default: its recipe name)")
    p.add_argument("--out", required=True, help="the figure (.png)")
    args = p.parse_args()
    studies = [json.loads(Path(f).read_text()) for f in args.results]
    labels = args.label or [s["recipe"] for s in studies]
    if len(labels) != len(studies):
        p.error("give one --label per study, or none")
    for row in zip(*(s["table"] for s in studies)):
        print(f"m={row[0]['m']:g}: " + "; ".join(
            f"{label}: ratio {r['dynamic-net']['ratio']:.3f} at alpha {r['dynamic-net']['knob']:g}"
            for label, r in zip(labels, row)
        ))  # fmt: skip
    print(plot_alpha_map(dict(zip(labels, studies)), Path(args.out)))


if __name__ == "__main__":
    main()
