"""Measure every model's activations: metrics for the frog and the probe set, the article's figures."""

from pathlib import Path

from lib.analysis import LAST, LAYER_MEASURES, OUTPUT, frog_metrics, probe_metrics, size_sweep
from lib.params import load, stage_parser
from lib.stage import run
from lib.store import atomic_dir, load_arrays, load_runs, read_csv, read_json, save_csv, save_json
from lib import figures, tables

MAPS = ("conv2d_1", "dense_1")


def main():
    parser = stage_parser(__doc__)
    parser.add_argument("--activations", required=True, help="input folder: <model>/<seed>/{frog,probe}.npz")
    parser.add_argument("--probe", required=True, help="input .npz: the probe set (for its labels)")
    parser.add_argument("--histories", required=True, help="input folder: <model>/<seed>.csv training histories")
    parser.add_argument("--train-metrics", required=True, help="input folder: <model>/<seed>.json test accuracies")
    parser.add_argument("--frog-metrics", required=True, help="output .json")
    parser.add_argument("--probe-metrics", required=True, help="output .json")
    parser.add_argument("--plots", required=True, help="output folder: figures (.png) and plot data (.csv)")
    args = parser.parse_args()
    params = load(args.params)
    settings = params["analysis"]
    frog_runs = load_runs(args.activations, params, load_arrays, "activations", "/frog.npz")
    probe_runs = load_runs(args.activations, params, load_arrays, "activations", "/probe.npz")
    histories = load_runs(args.histories, params, read_csv, "training history", ".csv")
    train_metrics = load_runs(args.train_metrics, params, read_json, "test metrics", ".json")
    labels = load_arrays(args.probe)["labels"].astype(int)
    first_seed = params["train"]["seeds"][0]
    frog_acts = {model: seeds[first_seed] for model, seeds in frog_runs.items()}
    frog_input = next(iter(frog_acts.values()))["input"]

    frog, histograms = frog_metrics(frog_input, frog_runs, settings["bins"])
    probe, cka = probe_metrics(probe_runs, labels, settings["bins"], settings["resamples"], settings["seed"])
    sweep, cka_sweep = size_sweep(params["models"], {m: list(s.values()) for m, s in train_metrics.items()},
                                  probe, cka)

    with atomic_dir(args.plots) as folder:
        folder = Path(folder)
        for layer in MAPS:
            figures.feature_maps(folder / f"feature_maps_{layer}.png", layer,
                                 {m: a[layer][0] for m, a in frog_acts.items()}, first_seed)
        figures.layer_distribution(folder / f"distribution_{LAST}.png", LAST,
                                   {m: a[LAST] for m, a in frog_acts.items()}, histograms["edges"][LAST], first_seed)
        figures.pixel_distribution(folder / "frog_pixels.png", frog_input, histograms["pixel_edges"])
        softmax = {m: a[OUTPUT][0] for m, a in frog_acts.items()}
        figures.softmax_bars(folder / "softmax.png", softmax, first_seed)
        figures.cka_heatmaps(folder / "cka.png", cka)

        save_csv(folder / "frog_layers.csv", tables.by_layer({m: frog[m] for m in params["models"]}, LAYER_MEASURES))
        save_csv(folder / "probe_layers.csv", tables.by_layer(
            {m: probe[m] for m in params["models"]}, [f"{f}{s}" for f in LAYER_MEASURES for s in ("", "_low", "_high")]))
        if frog["js_bits"]:
            save_csv(folder / "js_layers.csv", tables.js_by_layer(frog["js_bits"]))
            save_csv(folder / "cka.csv", tables.cka(cka))
        save_csv(folder / f"distribution_{LAST}.csv", tables.histogram(
            {m: h[LAST][1:] for m, h in histograms["counts"].items()}, histograms["edges"][LAST]))
        save_csv(folder / "frog_pixels.csv", tables.histogram({"input": histograms["pixel_counts"]},
                                                              histograms["pixel_edges"]))
        save_csv(folder / "softmax.csv", tables.softmax(softmax))
        save_csv(folder / "training_curves.csv", tables.curves({m: s[first_seed] for m, s in histories.items()}))
        save_csv(folder / "by_size.csv", sweep)
        save_csv(folder / "cka_to_largest.csv", cka_sweep)
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
