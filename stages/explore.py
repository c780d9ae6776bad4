"""Build the feature explorer, plots/explorer/: one page, opened from the file system, to browse every
subject and a class-balanced sample of the probe set through every model, layer and channel (first
seed), with each image's measures beside the probe set's, the claims, CKA, training curves, the size
sweep, the replayed checkpoints, each channel's selectivity and importance and what zeroing it costs
each class, what each channel responds to (its top test images and optimised input) and what builds
it (its inputs from the layer below), and where each subject's evidence lies."""

from lib.explorer import channel_inputs, folder_bytes, page_inputs, write_explorer
from lib.params import load, stage_parser
from lib.stage import run


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
    data, scripts = page_inputs(vars(args), params)
    write_explorer(args.out, data, scripts, channel_inputs(vars(args), params))
    print(f"explore: {len(scripts)} images x {len(params['models'])} models x {len(data['scales'])} layers stored; "
          f"{folder_bytes(args.out) / 1e6:.1f} MB in {args.out}/ (open {args.out}/index.html)")


if __name__ == "__main__":
    run(main, tensorflow=False)
