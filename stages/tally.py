"""Tally what every model's channels respond to: per layer, how class-specific its channels' top
test images are, compared between models (lib.channels); and per model how its subjects' maps fared
in the sanity check (lib.attribution)."""

from pathlib import Path

from lib.attribution import sanity_summary
from lib.channels import specificity_metrics, specificity_rows, stored_peaks, summary_lines
from lib.cifar import official_test_split
from lib.files import ATTRIBUTION_CARD, CHANNEL_PLOTS, EXAMPLES, EXAMPLES_CARD
from lib.params import load, stage_parser
from lib.stage import run
from lib.stats import first
from lib.store import atomic_dir, load_runs, read_json, save_csv, save_json


def main():
    parser = stage_parser(__doc__)
    parser.add_argument("--channels", required=True,
                        help=f"input folder: <model>/<seed>/{{{EXAMPLES},{EXAMPLES_CARD}}} of every run (visualize)")
    parser.add_argument("--attributions", required=True,
                        help=f"input folder: <model>/<seed>/{ATTRIBUTION_CARD} of every run (attribute)")
    parser.add_argument("--val", required=True, help="input .npz: the validation images (their labels)")
    parser.add_argument("--test", required=True, help="input .npz: the test images (their labels)")
    parser.add_argument("--metrics", required=True,
                        help="output .json: per model and layer the class specificity, per pair the differences, "
                             "per model the sanity check of its maps")
    parser.add_argument("--plots", required=True, help="output folder: class specificity by layer (.csv)")
    args = parser.parse_args()
    params = load(args.params)
    _, labels, _ = official_test_split(args.val, args.test)
    cards = load_runs(args.channels, params, read_json, "channel card", f"/{EXAMPLES_CARD}")
    peaks, initial = (load_runs(args.channels, params, lambda path, what=what: stored_peaks(path, what),
                                "channel examples", f"/{EXAMPLES}") for what in ("peak", "peak_initial"))
    attributions = load_runs(args.attributions, params, read_json, "attribution card", f"/{ATTRIBUTION_CARD}")
    metrics = specificity_metrics(peaks, initial, {model: first(runs)["roles"] for model, runs in cards.items()}, labels,
                                  params["channels"]["tally"], params["analysis"]["resamples"], params["analysis"]["seed"],
                                  {model: sanity_summary(list(runs.values())) for model, runs in attributions.items()})
    save_json(args.metrics, metrics)
    with atomic_dir(args.plots) as folder:
        save_csv(Path(folder) / CHANNEL_PLOTS["specificity"], specificity_rows(metrics))
    for line in summary_lines(metrics):
        print(line)


if __name__ == "__main__":
    run(main, tensorflow=False)
