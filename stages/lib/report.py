"""plots/report.md: the claims, one table of the models, the figures; Markdown any git host renders."""

from lib.analysis import LAST, over_seeds

FIGURES = (
    ("feature_maps_conv2d_1.png", "First-layer feature maps of the frog (article figs. 2-3)"),
    ("feature_maps_dense_1.png", "Last hidden layer's feature maps of the frog (figs. 4-5)"),
    ("distribution_dense_1.png", "Distribution of the last hidden layer's values for the frog (fig. 6)"),
    ("frog_pixels.png", "The frog's pixel values (fig. 7)"),
    ("softmax.png", "Softmax output for the frog (fig. 8)"),
    ("cka.png", "Linear CKA between the layers of two models, probe set"),
)


def ci(section, measure):
    return f"{section[measure]:.3f} [{section[f'{measure}_low']:.3f}, {section[f'{measure}_high']:.3f}]"


def model_rows(models, train_metrics, frog, probe):
    header = ("| model | train size | seeds | test accuracy (± sd over seeds) | epochs | frog → (p_frog) "
              f"| frog {LAST} entropy, bits | frog {LAST} zero fraction | probe accuracy [95 % CI] "
              "| probe softmax entropy, bits |")
    lines = [header, "|" + " --- |" * (header.count("|") - 1)]
    for model, settings in models.items():
        runs = over_seeds([{k: m[k] for k in ("test_accuracy", "epochs_run")} for m in train_metrics[model]])
        out, last = frog[model]["output"], frog[model][LAST]
        lines.append(
            f"| {model} | {settings['train_size']} | {len(train_metrics[model])} "
            f"| {runs['test_accuracy']:.4f} ± {runs['test_accuracy_seed_sd']:.4f} | {runs['epochs_run']:.1f} "
            f"| {out['predicted']} ({out['p_frog']:.3f}) | {last['entropy_bits']:.3f} | {last['zero_fraction']:.3f} "
            f"| {ci(probe[model]['output'], 'accuracy')} | {ci(probe[model]['output'], 'softmax_entropy_bits')} |")
    return lines


def markdown(data, models, train_metrics, frog, probe, verdicts, big, small, figures_dir):
    """The whole report as Markdown text; `figures_dir` is relative to the report."""
    seeds = len(next(iter(train_metrics.values())))
    sizes = ", ".join(f"{model} ({settings['train_size']} training images)" for model, settings in models.items())
    lines = [
        "# What the CNNs learned: report",
        "",
        "Written by the `report` stage from `metrics/*.json`; every number and verdict below is computed, "
        "none is typed in. Regenerate with `dvc repro`.",
        "",
        f"Models: {sizes}; "
        f"{seeds} training seed{'s' if seeds > 1 else ''} each. The frog is training image {data['frog']['index']} "
        f"(held out of every subset); the probe set is {data['probe_size']} class-balanced test images. "
        f"The claims compare **{big}** (most training data) with **{small}** (least)." if verdicts else
        "The claims compare two models trained on different amounts of data: add a second model to judge them.",
        "",
        "## Claims",
        "",
        "Verdicts: *held* when the 95 % bootstrap intervals (over probe images, values averaged over seeds) are apart "
        "in the claimed direction, *not held* when apart the other way, *inconclusive* when they overlap.",
        "",
    ]
    for verdict in verdicts:
        lines += [f"- **{verdict.verdict.upper()}** — {verdict.claim}"]
        lines += [f"  - {line}" for line in verdict.evidence]
    lines += ["", "## Models", ""] + model_rows(models, train_metrics, frog, probe)
    lines += ["", "## Figures", ""]
    for name, caption in FIGURES:
        lines += [f"### {caption}", "", f"![{caption}]({figures_dir}/{name})", ""]
    return "\n".join(lines).rstrip() + "\n"
