"""Score every model's reliance on single channels from its runs' ablation outcomes: the curves and
their summaries, class selectivity against importance (lib.reliance), what zeroing each channel
costs each class (lib.damage), the differences between models."""

from pathlib import Path

from lib.damage import damage_metrics, merged, summary_lines
from lib.files import ABLATION_CARD, ABLATION_OUTCOMES, RELIANCE_PLOTS, by_owner
from lib.params import load, stage_parser
from lib.reliance import reliance_metrics
from lib.stage import run
from lib.stats import first
from lib.store import atomic_dir, existing, load_arrays, load_runs, read_json, save_csv, save_json


def main():
    parser = stage_parser(__doc__)
    parser.add_argument("--ablation", required=True,
                        help=f"input folder: <model>/<seed>/{{{ABLATION_OUTCOMES},{ABLATION_CARD}}} of every run")
    parser.add_argument("--probe", required=True, help="input .npz: the probe set (its labels)")
    parser.add_argument("--metrics", required=True, help="output .json: per model and layer the summaries, per pair the differences")
    parser.add_argument("--plots", required=True, help="output folder: the curves and each channel's numbers (.csv)")
    args = parser.parse_args()
    params = load(args.params)
    settings = params["analysis"]

    labels = load_arrays(existing(args.probe, "probe set"))["labels"].astype(int)
    cards = load_runs(args.ablation, params, read_json, "ablation card", f"/{ABLATION_CARD}")
    outcomes = load_runs(args.ablation, params, lambda path: by_owner(load_arrays(path)), "ablation outcomes",
                         f"/{ABLATION_OUTCOMES}")
    roles = {model: first(runs)["roles"] for model, runs in cards.items()}
    metrics, curves, channels = reliance_metrics(outcomes, roles, labels, params["ablation"]["orders"],
                                                 settings["resamples"], settings["seed"])
    damage, damage_channels, classes = damage_metrics(outcomes, roles, labels, settings["resamples"], settings["seed"])
    metrics, channels = merged(metrics, channels, damage, damage_channels,
                               {model: first(runs).get("skipped", {}) for model, runs in cards.items()})
    save_json(args.metrics, metrics)
    with atomic_dir(args.plots) as folder:
        save_csv(Path(folder) / RELIANCE_PLOTS["curves"], curves)
        save_csv(Path(folder) / RELIANCE_PLOTS["channels"], channels)
        save_csv(Path(folder) / RELIANCE_PLOTS["classes"], classes)
    for line in summary_lines(metrics):
        print(line)


if __name__ == "__main__":
    run(main, tensorflow=False)
