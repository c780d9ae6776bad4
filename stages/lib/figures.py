"""The article's figures (and the CKA heatmap) as PNG files, models side by side."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from lib.cifar import CLASSES  # noqa: E402
from lib.model import LAYERS  # noqa: E402
from lib.store import atomic_path  # noqa: E402

GRID = 4
DPI = 110


def save(fig, path):
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)


def feature_maps(path, layer, maps, seed):
    """The first 16 channels of `layer` for the frog, a 4x4 grid per model, one colour scale.

    `maps` is {model: (H, W, C)}; the article's figs. 2-5."""
    top = max(float(m[..., :GRID * GRID].max()) for m in maps.values()) or 1.0
    fig = plt.figure(figsize=(3.2 * len(maps) + 0.9, 3.6), layout="constrained")
    *panels, legend = fig.subfigures(1, len(maps) + 1, width_ratios=[1] * len(maps) + [0.3])
    for panel, (model, m) in zip(panels, maps.items()):
        panel.suptitle(f"{model} (seed {seed}): {layer}")
        for channel, ax in enumerate(panel.subplots(GRID, GRID).flat):
            ax.set_axis_off()
            if channel < m.shape[-1]:
                image = ax.imshow(m[..., channel], cmap="viridis", vmin=0, vmax=top)
    fig.colorbar(image, cax=legend.add_axes((0.1, 0.1, 0.25, 0.75)), label="activation")
    save(fig, path)


def layer_distribution(path, layer, values, edges, seed):
    """Histograms of one layer's non-zero values, models overlaid on shared bins (fig. 6).

    `values` is {model: array}; the share of exact zeros is given in the legend."""
    fig, ax = plt.subplots(figsize=(6.4, 4), layout="constrained")
    for model, v in values.items():
        v = np.ravel(v)
        ax.hist(v[v != 0], bins=edges, histtype="stepfilled", alpha=0.45, density=True,
                label=f"{model} ({np.mean(v == 0):.0%} exactly zero)")
    ax.set(title=f"The frog's {layer} values (non-zero; seed {seed})", xlabel="activation", ylabel="density")
    ax.legend()
    save(fig, path)


def pixel_distribution(path, pixels, edges):
    """The frog's own pixel values (fig. 7)."""
    fig, ax = plt.subplots(figsize=(6.4, 4), layout="constrained")
    ax.hist(np.ravel(pixels), bins=edges, color="tab:gray", density=True)
    ax.set(title="The frog's pixel values (model input)", xlabel="pixel value", ylabel="density")
    save(fig, path)


def softmax_bars(path, probabilities, seed):
    """Class probabilities for the frog, models side by side (fig. 8)."""
    fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
    width = 0.8 / len(probabilities)
    for i, (model, p) in enumerate(probabilities.items()):
        ax.bar(np.arange(len(CLASSES)) + (i - (len(probabilities) - 1) / 2) * width, np.ravel(p), width,
               label=model)
    ax.set_xticks(np.arange(len(CLASSES)), CLASSES, rotation=30)
    ax.set(title=f"Softmax output for the frog (seed {seed})", ylabel="probability", ylim=(0, 1))
    ax.legend()
    save(fig, path)


def cka_heatmaps(path, matrices):
    """CKA between every layer of one model (rows) and every layer of another (columns)."""
    if not matrices:
        fig, ax = plt.subplots(figsize=(4, 1))
        ax.set_axis_off()
        ax.text(0.5, 0.5, "CKA needs two models", ha="center", va="center")
        save(fig, path)
        return
    fig, axes = plt.subplots(1, len(matrices), figsize=(6.4 * len(matrices), 5.6), squeeze=False,
                             layout="constrained")
    for ax, (name, matrix) in zip(axes[0], matrices.items()):
        a, b = name.split("_vs_")
        image = ax.imshow(matrix, vmin=0, vmax=1, cmap="magma")
        ax.set_xticks(range(len(LAYERS)), LAYERS, rotation=90)
        ax.set_yticks(range(len(LAYERS)), LAYERS)
        ax.set(xlabel=b, ylabel=a, title=f"linear CKA over the probe set: {a} vs {b} (mean over seeds)")
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8)
    save(fig, path)
