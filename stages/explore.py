"""Build the feature explorer, plots/explorer/: one page, opened from the file system, to browse every
subject and a class-balanced sample of the probe set through every model, layer and channel (first
seed), with each image's measures beside the probe set's, the claims, CKA, training curves, the size
sweep and the replayed checkpoints."""

from lib.analysis import largest, runs_of, smallest
from lib.cifar import model_inputs
from lib.claims import evaluate
from lib.explorer import (ImageSet, charts, colour_table, epoch_entries, explorer, folder_bytes, model_info, plural,
                          probe_sample, verdict_entries, write_explorer)
from lib.measures import LAYER_MEASURES, OUTPUT_MEASURES
from lib.keys import FOR_PAGE, OUTPUT
from lib.params import load, stage_parser
from lib.stage import run
from lib.store import existing, load_arrays, load_runs, read_json

def main():
    parser = stage_parser(__doc__)
    parser.add_argument("--activations", required=True, help="input folder: <model>/<seed>/{subjects,probe}.npz, layers.json")
    parser.add_argument("--subjects", required=True, help="input .npz: the subjects")
    parser.add_argument("--probe", required=True, help="input .npz: the probe set")
    parser.add_argument("--subject-metrics", required=True, help="input .json: the subjects' measures (for the claims)")
    parser.add_argument("--probe-metrics", required=True, help="input .json: the probe set's measures and intervals")
    parser.add_argument("--train-metrics", required=True, help="input folder: <model>/<seed>.json test accuracies")
    parser.add_argument("--analysis-plots", required=True, help="input folder: the analysis' plot data")
    parser.add_argument("--dynamics", required=True, help="input folder: <model>/<seed>/epochs.json, the replayed checkpoints")
    parser.add_argument("--dynamics-plots", required=True, help="input folder: the trace stage's plot data")
    parser.add_argument("--out", required=True, help="output folder: index.html, images/, vendor/")
    args = parser.parse_args()
    params = load(args.params)
    models, bins, grayscale = params["models"], params["analysis"]["bins"], params["data"]["grayscale"]
    seed = params["train"]["seeds"][0]
    subject_set, probe_set = (load_arrays(existing(path, what)) for path, what in
                              ((args.subjects, "subjects"), (args.probe, "probe set")))
    subjects_json, probe_json = (read_json(existing(path, "metrics")) for path in (args.subject_metrics, args.probe_metrics))
    first_run = {**params, "train": {**params["train"], "seeds": [seed]}}
    train_metrics = load_runs(args.train_metrics, first_run, read_json, "test metrics", ".json")
    dynamics = load_runs(args.dynamics, first_run, read_json, "replayed checkpoints", "/epochs.json")

    subject_runs = {model: runs[seed] for model, runs in runs_of(args.activations, first_run, "subjects").items()}
    probe_runs = {model: runs[seed] for model, runs in runs_of(args.activations, first_run, "probe").items()}
    probe_labels = probe_set["labels"].astype(int)
    subjects = ImageSet(subject_set["names"].tolist(), subject_set["labels"].astype(int), subject_set["images"],
                        model_inputs(subject_set["images"], grayscale), subject_runs)
    probe = ImageSet([f"test {i}" for i in probe_set["indices"]], probe_labels, probe_set["images"],
                     model_inputs(probe_set["images"], grayscale), probe_runs)
    sample = probe_sample(probe_labels, params["explore"]["probe_images"])
    data, scripts = explorer(subjects, probe, sample, bins, list(models))

    big, small = largest(models), smallest(models)
    verdicts = evaluate(subjects_json, probe_json, big, small) if big != small else []
    epochs, best, last = epoch_entries({model: runs[seed] for model, runs in dynamics.items()})
    data.update(
        summary=f"{len(models)} models ({', '.join(models)}), seed {seed}; {plural(len(subjects.names), 'subject')} and "
                f"{len(sample)} of the {len(probe_labels)} probe images; entropy bins of width 1/{bins}",
        seed=seed, keys=FOR_PAGE, lut=colour_table(), info=model_info(models, train_metrics, seed),
        layer_measures=list(LAYER_MEASURES), output_measures=list(OUTPUT_MEASURES),
        probe={model: {"layers": summary["layers"], OUTPUT: summary[OUTPUT]}
               for model, summary in probe_json["models"].items()},
        verdicts=verdict_entries(verdicts), charts=charts(args.analysis_plots, args.dynamics_plots),
        epochs=epochs, best=best, last=last)
    write_explorer(args.out, data, scripts)
    print(f"explore: {len(scripts)} images x {len(models)} models x {len(data['scales'])} layers stored; "
          f"{folder_bytes(args.out) / 1e6:.1f} MB in {args.out}/ (open {args.out}/index.html)")


if __name__ == "__main__":
    run(main, tensorflow=False)
