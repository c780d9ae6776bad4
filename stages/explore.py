"""Build the feature explorer, plots/explorer/: one page, opened from the file system, to browse every
subject and a class-balanced sample of the probe set through every model, layer and channel (first
seed), with each image's measures beside the probe set's, the claims, CKA, training curves, the size
sweep, the replayed checkpoints, each channel's selectivity and importance and what zeroing it costs
each class, what each channel responds to (its top test images and optimised input) and what builds
it (its inputs from the layer below), and where each subject's evidence lies."""

from lib.analysis import runs_of
from lib.cifar import Images
from lib.claims import judged
from lib.cifar import model_inputs, official_test_split
from lib.explorer import (ImageSet, at_seed, attribution_views, channel_views, charts, folder_bytes,
                          page_data, probe_names, reliance_channels, write_explorer)
from lib.files import ATTRIBUTION_CARD, ATTRIBUTION_MAPS, EXAMPLES, EXAMPLES_CARD, FEATURES, REPLAY_CARD
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
    parser.add_argument("--reliance-metrics", required=True, help="input .json: reliance on single channels (score)")
    parser.add_argument("--reliance-plots", required=True, help="input folder: the score stage's plot data")
    parser.add_argument("--channels", required=True, help="input folder: <model>/<seed>/ examples and optimised inputs (visualize)")
    parser.add_argument("--channel-metrics", required=True, help="input .json: class specificity (tally)")
    parser.add_argument("--attributions", required=True, help="input folder: <model>/<seed>/ subjects' maps (attribute)")
    parser.add_argument("--val", required=True, help="input .npz: the validation images (the official test split's first part)")
    parser.add_argument("--test", required=True, help="input .npz: the test images (its rest)")
    parser.add_argument("--out", required=True, help="output folder: index.html, images/, channels.js, vendor/")
    args = parser.parse_args()
    params = load(args.params)
    seed, grayscale = params["train"]["seeds"][0], params["data"]["grayscale"]
    first_run = {**params, "train": {**params["train"], "seeds": [seed]}}
    subject_set, probe_set = (load_arrays(existing(path, what)) for path, what in
                              ((args.subjects, "subjects"), (args.probe, "probe set")))
    subject_runs, probe_runs = (runs_of(args.activations, first_run, images) for images in ("subjects", "probe"))
    train_metrics = load_runs(args.train_metrics, first_run, read_json, "test metrics", ".json")
    dynamics = load_runs(args.dynamics, first_run, read_json, "replayed checkpoints", f"/{REPLAY_CARD}")
    subjects = ImageSet(Images.of(subject_set).seen(grayscale), at_seed(subject_runs, seed))
    probe = ImageSet(Images.of(probe_set)._replace(names=probe_names(probe_set["indices"])).seen(grayscale),
                     at_seed(probe_runs, seed))
    subject_metrics, probe_metrics, reliance = (read_json(existing(path, "metrics")) for path in (
        args.subject_metrics, args.probe_metrics, args.reliance_metrics))
    verdicts = judged(params["models"], subject_metrics, probe_metrics, reliance)
    data, scripts = page_data(subjects, probe, params, probe_metrics, verdicts, at_seed(train_metrics, seed),
                              at_seed(dynamics, seed), charts(args.analysis_plots, args.dynamics_plots), reliance,
                              reliance_channels(args.reliance_plots, seed))
    split_images, _, split_indices = official_test_split(args.val, args.test)
    runs = {name: load_runs(args.channels, first_run, read, what, f"/{file}") for name, read, what, file in (
        ("examples", load_arrays, "channel examples", EXAMPLES), ("features", load_arrays, "optimised inputs", FEATURES),
        ("card", read_json, "channel card", EXAMPLES_CARD))}
    specificity = read_json(existing(args.channel_metrics, "metrics"))
    views = channel_views({model: tuple(runs[name][model][seed] for name in ("examples", "features", "card"))
                           for model in params["models"]}, model_inputs(split_images, grayscale), split_indices,
                          specificity["models"], specificity["chance"]["class_specificity"])
    attribution_cards, maps = (at_seed(load_runs(args.attributions, first_run, read, what, f"/{file}"), seed)
                               for read, what, file in ((read_json, "attribution card", ATTRIBUTION_CARD),
                                                        (load_arrays, "attribution maps", ATTRIBUTION_MAPS)))
    data.update(attributions=attribution_views(attribution_cards, maps))
    write_explorer(args.out, data, scripts, views)
    print(f"explore: {len(scripts)} images x {len(params['models'])} models x {len(data['scales'])} layers stored; "
          f"{folder_bytes(args.out) / 1e6:.1f} MB in {args.out}/ (open {args.out}/index.html)")


if __name__ == "__main__":
    run(main, tensorflow=False)
