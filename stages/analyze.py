"""Measure every model's activations: metrics for the subjects and the probe set, the article's figures."""

from pathlib import Path

from lib.analysis import probe_metrics, runs_of, size_sweep, subjects_metrics
from lib.cifar import Images
from lib.files import ANALYSIS_PLOTS, CKA_FIGURE, SUBJECT_FIGURES, SWEEP_FIGURE
from lib.keys import OUTPUT
from lib.model import MAPS
from lib.params import load, stage_parser
from lib.stage import run
from lib.stats import first
from lib.store import atomic_dir, existing, load_arrays, load_runs, read_csv, read_json, save_csv, save_json
from lib import figures, tables


def main():
    parser = stage_parser(__doc__)
    parser.add_argument("--activations", required=True,
                        help="input folder: <model>/<seed>/{subjects,probe}.npz and layers.json")
    parser.add_argument("--subjects", required=True, help="input .npz: the subjects (images, labels, names)")
    parser.add_argument("--probe", required=True, help="input .npz: the probe set (images, labels)")
    parser.add_argument("--histories", required=True, help="input folder: <model>/<seed>.csv training histories")
    parser.add_argument("--train-metrics", required=True, help="input folder: <model>/<seed>.json test accuracies")
    parser.add_argument("--subject-metrics", required=True, help="output .json")
    parser.add_argument("--probe-metrics", required=True, help="output .json")
    parser.add_argument("--plots", required=True, help="output folder: figures (.png) and plot data (.csv)")
    args = parser.parse_args()
    params = load(args.params)
    settings, grayscale = params["analysis"], params["data"]["grayscale"]
    subject_set, probe_set = (Images.of(load_arrays(existing(path, what))).seen(grayscale)
                              for path, what in ((args.subjects, "subjects"), (args.probe, "probe set")))
    names, labels, subject_inputs = subject_set.names, subject_set.labels, subject_set.inputs
    subject_runs, probe_runs = runs_of(args.activations, params, "subjects"), runs_of(args.activations, params, "probe")
    histories = load_runs(args.histories, params, read_csv, "training history", ".csv")
    train_metrics = load_runs(args.train_metrics, params, read_json, "test metrics", ".json")
    first_seed = params["train"]["seeds"][0]

    subjects = subjects_metrics(names, labels, subject_inputs, subject_runs, settings["bins"])
    probe, cka = probe_metrics(probe_runs, probe_set.inputs, probe_set.labels, settings["bins"],
                               settings["resamples"], settings["seed"])
    sweep, cka_sweep = size_sweep(params["models"], {m: list(s.values()) for m, s in train_metrics.items()},
                                  probe, cka)

    shown = {model: seeds[first_seed] for model, seeds in subject_runs.items()}
    layers = {model: first(seeds).layers for model, seeds in probe_runs.items()}
    plot_data = {
        "subject_layers": tables.subject_layers(subjects, layers),
        "probe_layers": tables.probe_layers(probe, layers),
        "js_layers": tables.js_layers(subjects),
        "cka": tables.cka(cka, layers),
        "distribution_last_hidden": tables.distributions(names, shown, "last_hidden", settings["bins"]),
        "subject_pixels": tables.pixels(names, subject_inputs, settings["bins"]),
        "softmax": tables.softmax(names, shown),
        "training": tables.curves({m: s[first_seed] for m, s in histories.items()}),
        "by_size": sweep,
        "cka_to_largest": cka_sweep,
    }
    with atomic_dir(args.plots) as folder:
        folder = Path(folder)
        for i, name in enumerate(names):
            figures.subject_figures(folder / SUBJECT_FIGURES.format(name=name), name, subjects[name]["label"], subject_inputs[i],
                                    {model: run.rows(slice(i, i + 1)) for model, run in shown.items()},
                                    settings["bins"], first_seed, MAPS)
        figures.cka_heatmaps(folder / CKA_FIGURE, cka, layers)
        if len(sweep) > 1:
            figures.size_sweep(folder / SWEEP_FIGURE, sweep, cka_sweep,
                               probe["models"][sweep[-1]["model"]]["roles"]["last_hidden"])
        for name, rows in plot_data.items():
            if rows:
                save_csv(folder / ANALYSIS_PLOTS[name], rows)
    save_json(args.subject_metrics, subjects)
    save_json(args.probe_metrics, probe)
    for model, summary in probe["models"].items():
        last = summary["roles"]["last_hidden"]
        for name in names:
            out, layer = subjects[name]["models"][model][OUTPUT], subjects[name]["models"][model]["layers"][last]
            given = f" (p_{subjects[name]['label']} {out['p_label']:.3f})" if subjects[name]["label"] else ""
            print(f"analyze: {model}: {name} -> {out['predicted']}{given}, {last} entropy "
                  f"{layer['entropy_bits']:.3f} bits, zero fraction {layer['zero_fraction']:.3f}")
        print(f"analyze: {model}: probe accuracy {summary['output']['accuracy']:.3f}")


if __name__ == "__main__":
    run(main)
