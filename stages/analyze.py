"""Measure every model's activations: metrics for the frog and the probe set, the article's figures."""

import argparse
import csv
from pathlib import Path

from lib.analysis import OUTPUT, frog_metrics, probe_metrics
from lib.params import PARAMS_FILE, load
from lib.stage import StageError, run
from lib.store import atomic_dir, load_arrays, save_csv, save_json
from lib import figures, tables

LAYER_FIELDS = ("entropy_bits", "zero_fraction", "mean", "channel_corr")
MAPS = ("conv2d_1", "dense_1")
LAST = "dense_1"


def model_file(path, model, what):
    """`path`, or a one-line error saying which model lacks what."""
    if not path.is_file():
        raise StageError(f"no {what} for model {model!r} at {path}; run `dvc repro` to make it")
    return path


def load_activations(folder, models):
    """{set: {model: {layer: array}}} for set in frog, probe."""
    return {name: {model: load_arrays(model_file(Path(folder) / model / f"{name}.npz", model, "activations"))
                   for model in models}
            for name in ("frog", "probe")}


def load_histories(folder, models):
    """{model: per-epoch rows} from the train stages' CSV files."""
    histories = {}
    for model in models:
        with open(model_file(Path(folder) / f"{model}.csv", model, "training history"), newline="") as file:
            histories[model] = list(csv.DictReader(file))
    return histories


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default=PARAMS_FILE)
    parser.add_argument("--activations", required=True, help="input folder: <model>/frog.npz, <model>/probe.npz")
    parser.add_argument("--probe", required=True, help="input .npz: the probe set (for its labels)")
    parser.add_argument("--histories", required=True, help="input folder: <model>.csv training histories")
    parser.add_argument("--frog-metrics", required=True, help="output .json")
    parser.add_argument("--probe-metrics", required=True, help="output .json")
    parser.add_argument("--plots", required=True, help="output folder: figures (.png) and plot data (.csv)")
    args = parser.parse_args()
    params = load(args.params)
    settings = params["analysis"]
    acts = load_activations(args.activations, params["models"])
    histories = load_histories(args.histories, params["models"])
    frog_input = next(iter(acts["frog"].values()))["input"]
    labels = load_arrays(args.probe)["labels"].astype(int)

    frog, histograms = frog_metrics(frog_input, acts["frog"], settings["bins"])
    probe, cka = probe_metrics(acts["probe"], labels, settings["bins"], settings["resamples"], settings["seed"])

    with atomic_dir(args.plots) as folder:
        folder = Path(folder)
        for layer in MAPS:
            figures.feature_maps(folder / f"feature_maps_{layer}.png", layer,
                                 {m: a[layer][0] for m, a in acts["frog"].items()})
        figures.layer_distribution(folder / f"distribution_{LAST}.png", LAST,
                                   {m: a[LAST] for m, a in acts["frog"].items()}, histograms["edges"][LAST])
        figures.pixel_distribution(folder / "frog_pixels.png", frog_input, histograms["pixel_edges"])
        softmax = {m: a[OUTPUT][0] for m, a in acts["frog"].items()}
        figures.softmax_bars(folder / "softmax.png", softmax)
        figures.cka_heatmaps(folder / "cka.png", cka)

        save_csv(folder / "frog_layers.csv", tables.by_layer(
            {m: v for m, v in frog.items() if m in params["models"]}, LAYER_FIELDS))
        save_csv(folder / "probe_layers.csv", tables.by_layer(
            {m: v for m, v in probe.items() if m in params["models"]},
            [f"{f}{s}" for f in LAYER_FIELDS for s in ("", "_low", "_high")]))
        if frog["js_bits"]:
            save_csv(folder / "js_layers.csv", tables.js_by_layer(frog["js_bits"]))
            save_csv(folder / "cka.csv", tables.cka(cka))
        save_csv(folder / f"distribution_{LAST}.csv", tables.histogram(
            {m: h[LAST][1:] for m, h in histograms["counts"].items()}, histograms["edges"][LAST]))
        save_csv(folder / "frog_pixels.csv", tables.histogram({"input": histograms["pixel_counts"]},
                                                              histograms["pixel_edges"]))
        save_csv(folder / "softmax.csv", tables.softmax(softmax))
        save_csv(folder / "training_curves.csv", tables.curves(histories))
    save_json(args.frog_metrics, frog)
    save_json(args.probe_metrics, probe)
    for model in params["models"]:
        out = frog[model]["output"]
        print(f"analyze: {model}: frog -> {out['predicted']} (p_frog {out['p_frog']:.3f}), "
              f"{LAST} entropy {frog[model][LAST]['entropy_bits']:.3f} bits, "
              f"zero fraction {frog[model][LAST]['zero_fraction']:.3f}; "
              f"probe accuracy {probe[model]['output']['accuracy']:.3f}")


if __name__ == "__main__":
    run(main)
