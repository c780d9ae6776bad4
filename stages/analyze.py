"""Measure every model's activations: metrics for the subjects and the probe set, the article's figures."""

from pathlib import Path

from lib.analysis import probe_metrics, runs_of, size_sweep, subjects_metrics, summary_lines
from lib.cifar import Images
from lib.files import ANALYSIS_PLOTS
from lib.params import load, stage_parser
from lib.stage import run
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
    settings, grayscale, first_seed = params["analysis"], params["data"]["grayscale"], params["train"]["seeds"][0]
    bins = settings["bins"]
    subject_set, probe_set = (Images.of(load_arrays(existing(path, what))).seen(grayscale)
                              for path, what in ((args.subjects, "subjects"), (args.probe, "probe set")))
    subject_runs, probe_runs = runs_of(args.activations, params, "subjects"), runs_of(args.activations, params, "probe")
    histories = load_runs(args.histories, params, read_csv, "training history", ".csv")
    train_metrics = load_runs(args.train_metrics, params, read_json, "test metrics", ".json")

    subjects = subjects_metrics(subject_set.names, subject_set.labels, subject_set.inputs, subject_runs, bins)
    probe, cka = probe_metrics(probe_runs, probe_set.inputs, probe_set.labels, bins, settings["resamples"],
                               settings["seed"])
    sweep = size_sweep(params["models"], {m: list(s.values()) for m, s in train_metrics.items()}, probe, cka)
    shown = {model: seeds[first_seed] for model, seeds in subject_runs.items()}
    rows = tables.analysis_tables(subjects, probe, cka, sweep, subject_set.names, subject_set.inputs, shown,
                                  {m: s[first_seed] for m, s in histories.items()}, bins)
    with atomic_dir(args.plots) as folder:
        figures.analysis_figures(Path(folder), subject_set, subjects, shown, probe, cka, sweep, bins, first_seed)
        for name, found in rows.items():
            if found:
                save_csv(Path(folder) / ANALYSIS_PLOTS[name], found)
    save_json(args.subject_metrics, subjects)
    save_json(args.probe_metrics, probe)
    for line in summary_lines(subjects, probe):
        print(line)


if __name__ == "__main__":
    run(main)
