"""The end-to-end latency distribution as a PNG: histogram and CDF, percentiles and targets."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: write files only
import matplotlib.pyplot as plt
from e2e import percentile


def plot_latency(
    samples_ms: list[float], targets_ms: dict[str, float], path: Path, title: str
) -> Path:
    """Write the plot of ``samples_ms`` to ``path``; the targets are drawn as dashed lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    figure, (histogram, cdf) = plt.subplots(1, 2, figsize=(11, 4.2))
    histogram.hist(samples_ms, bins=min(60, max(10, len(samples_ms) // 8)), color="#4c72b0")
    histogram.set_xlabel("API call -> notification captured (ms)")
    histogram.set_ylabel("updates")
    ordered = sorted(samples_ms)
    fractions = [(index + 1) / len(ordered) for index in range(len(ordered))]
    cdf.step(ordered, fractions, where="post", color="#4c72b0")
    cdf.set_xlabel("latency (ms)")
    cdf.set_ylabel("fraction of updates")
    for axes in (histogram, cdf):
        for (name, value), style in zip(targets_ms.items(), ("--", ":", "-."), strict=False):
            axes.axvline(
                value, color="#c44e52", linestyle=style, linewidth=1, label=f"{name} target"
            )
    for p, color in ((50, "#55a868"), (95, "#dd8452"), (99, "#8172b2")):
        value = percentile(samples_ms, p)
        cdf.axvline(value, color=color, linewidth=1, label=f"p{p} {value:.1f} ms")
    histogram.legend(loc="upper right", fontsize=8)
    cdf.legend(loc="lower right", fontsize=8)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
