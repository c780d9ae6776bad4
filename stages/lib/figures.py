"""The article's figures for every subject (and the CKA heatmap) as PNG files, models side by side."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from lib.cifar import CLASSES  # noqa: E402
from lib.files import (CKA_FIGURE, DISTRIBUTION, FEATURE_MAPS, PIXELS, SOFTMAX, SUBJECT_FIGURES,  # noqa: E402
                       SWEEP_FIGURE)
from lib.keys import OUTPUT, pair_models, role_layer, spread  # noqa: E402
from lib.measures import pixel_edges, shared_edges  # noqa: E402
from lib.model import MAPS  # noqa: E402
from lib.store import atomic_path  # noqa: E402

GRID = 4
DPI = 110


def save(fig, path):
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)


def feature_maps(path, title, maps, seed):
    """The first 16 channels of one layer per model, a 4x4 grid each, one colour scale (figs. 2-5).

    `maps` is {panel title: (H, W, C)}; a layer without a spatial map is drawn as one row of units."""
    maps = {name: m if m.ndim == 3 else m.reshape(1, -1, 1) for name, m in maps.items()}
    top = max(float(m[..., :GRID * GRID].max()) for m in maps.values()) or 1.0
    fig = plt.figure(figsize=(3.2 * len(maps) + 0.9, 3.6), layout="constrained")
    *panels, legend = fig.subfigures(1, len(maps) + 1, width_ratios=[1] * len(maps) + [0.3])
    for panel, (name, m) in zip(panels, maps.items()):
        panel.suptitle(f"{name} (seed {seed})")
        for channel, ax in enumerate(panel.subplots(GRID, GRID).flat):
            ax.set_axis_off()
            if channel < m.shape[-1]:
                image = ax.imshow(m[..., channel], cmap="viridis", vmin=0, vmax=top, aspect="auto")
    fig.suptitle(title)
    fig.colorbar(image, cax=legend.add_axes((0.1, 0.1, 0.25, 0.75)), label="activation")
    save(fig, path)


def layer_distribution(path, title, values, edges):
    """Histograms of one layer's non-zero values, models overlaid on shared bins (fig. 6).

    `values` is {label: array}; the share of exact zeros is given in the legend."""
    fig, ax = plt.subplots(figsize=(6.4, 4), layout="constrained")
    for name, v in values.items():
        v = np.ravel(v)
        ax.hist(v[v != 0], bins=edges, histtype="stepfilled", alpha=0.45, density=True,
                label=f"{name} ({np.mean(v == 0):.0%} exactly zero)")
    ax.set(title=title, xlabel="activation", ylabel="density")
    ax.legend()
    save(fig, path)


def pixel_distribution(path, title, pixels, edges):
    """A subject's own pixel values (fig. 7)."""
    fig, ax = plt.subplots(figsize=(6.4, 4), layout="constrained")
    ax.hist(np.ravel(pixels), bins=edges, color="tab:gray", density=True)
    ax.set(title=title, xlabel="pixel value", ylabel="density")
    save(fig, path)


def softmax_bars(path, title, probabilities, label):
    """Class probabilities, models side by side, the true class marked (fig. 8)."""
    fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
    width = 0.8 / len(probabilities)
    for i, (model, p) in enumerate(probabilities.items()):
        ax.bar(np.arange(len(CLASSES)) + (i - (len(probabilities) - 1) / 2) * width, np.ravel(p), width,
               label=model)
    names = [f"[{name}]" if name == label else name for name in CLASSES]
    ax.set_xticks(np.arange(len(CLASSES)), names, rotation=30)
    ax.set(title=title, ylabel="probability", ylim=(0, 1))
    ax.legend()
    save(fig, path)


def subject_figures(folder, name, label, image, runs, bins, seed, maps):
    """Figures 2-8 for one subject: `runs` {model: Run on that image}; `maps` the roles drawn as maps."""
    described = name if label in (None, name) else f"{name} ({label})"
    for role in maps:
        feature_maps(folder / FEATURE_MAPS.format(role=role), f"{described}: {role.replace('_', ' ')} layer",
                     {f"{model}: {run.roles[role]}": run.acts[run.roles[role]][0] for model, run in runs.items()}, seed)
    last = {f"{model}: {run.roles['last_hidden']}": run.acts[run.roles["last_hidden"]] for model, run in runs.items()}
    layer_distribution(folder / DISTRIBUTION,
                       f"{described}: last hidden layer's values (non-zero; seed {seed})", last,
                       shared_edges(list(last.values()), bins))
    pixel_distribution(folder / PIXELS, f"{described}: pixel values (model input)", image, pixel_edges(bins))
    softmax_bars(folder / SOFTMAX, f"Softmax output for {described} (seed {seed})",
                 {model: run.acts[run.roles[OUTPUT]][0] for model, run in runs.items()}, label)


def cka_heatmaps(path, matrices, layers):
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
        a, b = pair_models(name)
        image = ax.imshow(matrix, vmin=0, vmax=1, cmap="magma")
        ax.set_xticks(range(len(layers[b])), layers[b], rotation=90)
        ax.set_yticks(range(len(layers[a])), layers[a])
        ax.set(xlabel=b, ylabel=a, title=f"linear CKA over the probe set: {a} vs {b} (mean over seeds)")
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8)
    save(fig, path)


def size_sweep(path, rows, cka_rows, last_hidden):
    """Test accuracy, the last hidden layer's entropy, zero fraction and mean, the softmax entropy
    and the last hidden layer's CKA with the largest model's, against training-set size (mean over
    seeds, bars one standard deviation across seeds)."""
    panels = [("test_accuracy", "test accuracy"), ("last_hidden_entropy_bits", f"{last_hidden} entropy (bits)"),
              ("last_hidden_zero_fraction", f"{last_hidden} zero fraction"), ("last_hidden_mean", f"{last_hidden} mean"),
              ("softmax_entropy_bits", "softmax entropy (bits)")]
    sizes = [row["train_size"] for row in rows]
    fig, axes = plt.subplots(2, 3, figsize=(12, 6.4), layout="constrained")
    for ax, (key, label) in zip(axes.flat, panels):
        ax.errorbar(sizes, [row[key] for row in rows], yerr=[row[spread(key)] for row in rows],
                    marker="o", capsize=3)
        ax.set(xscale="log", xlabel="training images", title=label)
    cka = {row["train_size"]: row["cka_to_largest"] for row in cka_rows if row["layer"] in (last_hidden, "last_hidden")}
    ax = axes.flat[5]
    ax.plot(sorted(cka), [cka[size] for size in sorted(cka)], marker="o")
    ax.set(xscale="log", xlabel="training images", title=f"{last_hidden}: CKA with the largest model", ylim=(0, 1.05))
    fig.suptitle("By training-set size: test accuracy on the test split, the rest over the probe set "
                 "(mean over seeds, bars ± one sd across seeds)")
    save(fig, path)


def analysis_figures(folder, subject_set, subjects, shown, probe, cka_matrices, sweep, bins, seed):
    """The analyze stage's figures in `folder`: each subject's (figures 2-8; `shown` {model: Run of
    the subjects at `seed`}), the CKA heatmaps and, with more than one model trained here, the size sweep."""
    layers = {model: list(summary["layers"]) for model, summary in probe["models"].items()}
    for i, name in enumerate(subject_set.names):
        subject_figures(folder / SUBJECT_FIGURES.format(name=name), name, subjects[name]["label"],
                        subject_set.inputs[i], {model: run.rows(slice(i, i + 1)) for model, run in shown.items()},
                        bins, seed, MAPS)
    cka_heatmaps(folder / CKA_FIGURE, cka_matrices, layers)
    rows, cka_rows = sweep
    if len(rows) > 1:
        size_sweep(folder / SWEEP_FIGURE, rows, cka_rows, role_layer(probe["models"][rows[-1]["model"]], "last_hidden"))


def cka_to_best(ax, rows, title):
    """One run's layers, a line each: CKA with its best epoch against epoch."""
    lines = {}
    for row in rows:
        lines.setdefault(row["layer"], []).append((row["epoch"], row["cka_to_best"]))
    palette = plt.cm.plasma(np.linspace(0, 0.9, len(lines)))
    for colour, (layer, points) in zip(palette, lines.items()):
        points = sorted(points)
        ax.plot([p[0] for p in points], [np.nan if p[1] is None else p[1] for p in points], marker=".",
                color=colour, label=layer)
    ax.set(xlabel="epoch", ylim=(0, 1.05), title=title)
    ax.legend(fontsize="x-small", ncol=2)


def dynamics(path, measures, plane, cka):
    """Over training, one line per run (a colour per model): probe accuracy and the last hidden
    layer's entropy against epoch, the two against each other (points coloured by epoch), and per
    model each layer's CKA with its best epoch (the first seed)."""
    models = list(dict.fromkeys(row["model"] for row in plane))
    colours = dict(zip(models, plt.cm.tab10.colors))
    columns = 3
    rows = 1 + -(-len(models) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.4 * rows), layout="constrained", squeeze=False)
    runs = {}
    for row in plane:
        runs.setdefault((row["model"], row["seed"]), []).append(row)
    labelled = set()
    for (model, seed), points in runs.items():
        points = sorted(points, key=lambda p: p["epoch"])
        epochs = [p["epoch"] for p in points]
        accuracy, entropy = [p["probe_accuracy"] for p in points], [p["last_hidden_entropy_bits"] for p in points]
        label = "_seed" if model in labelled else model
        labelled.add(model)
        axes[0, 0].plot(epochs, accuracy, marker="o", color=colours[model], label=label)
        axes[0, 1].plot(epochs, entropy, marker="o", color=colours[model], label=label)
        axes[0, 2].plot(accuracy, entropy, color=colours[model], alpha=0.6, label=label)
        shown = axes[0, 2].scatter(accuracy, entropy, c=epochs, cmap="viridis", edgecolors=colours[model], zorder=3,
                                   norm=matplotlib.colors.Normalize(0, max(p["epoch"] for p in plane)))
    axes[0, 0].set(xlabel="epoch", title="probe accuracy")
    axes[0, 1].set(xlabel="epoch", title="last hidden layer's entropy (bits)")
    axes[0, 2].set(xlabel="probe accuracy", ylabel="last hidden entropy (bits)", title="information plane")
    fig.colorbar(shown, ax=axes[0, 2], label="epoch")
    axes[0, 0].legend(fontsize="small")
    first_seed = {model: min(seed for m, seed in runs if m == model) for model in models}
    for ax, model in zip(axes.flat[columns:], models):
        cka_to_best(ax, [row for row in cka if row["model"] == model and row["seed"] == first_seed[model]],
                     f"{model} (seed {first_seed[model]}): CKA with its best epoch")
    for ax in axes.flat[columns + len(models):]:
        ax.set_axis_off()
    fig.suptitle("Over training: the probe set through each replayed checkpoint (epoch 0: the initial weights)")
    save(fig, path)
