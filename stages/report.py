"""Write plots/report.md (the reference's claims judged from the metrics, a table of the models, the figures)
and metrics/headline.json (the numbers `dvc exp show` compares)."""

import os
from pathlib import Path

from lib.claims import judged
from lib.files import DYNAMICS_FIGURE
from lib.headline import headline
from lib.model import largest, smallest
from lib.params import load, stage_parser
from lib.report import markdown
from lib.stage import run
from lib.store import atomic_path, existing, load_runs, read_json, save_json


def main():
    parser = stage_parser(__doc__)
    parser.add_argument("--data-metrics", required=True, help="input .json: what carve drew")
    parser.add_argument("--train-metrics", required=True, help="input folder: <model>/<seed>.json")
    parser.add_argument("--subject-metrics", required=True, help="input .json")
    parser.add_argument("--probe-metrics", required=True, help="input .json")
    parser.add_argument("--reliance-metrics", required=True, help="input .json: reliance on single channels (score)")
    parser.add_argument("--channel-metrics", required=True, help="input .json: what the channels respond to (tally)")
    parser.add_argument("--figures", required=True, help="input folder: the analysis figures")
    parser.add_argument("--dynamics-metrics", required=True, help="input .json: the early-checkpoint comparisons")
    parser.add_argument("--dynamics-plots", required=True, help="input folder: the training-dynamics figure")
    parser.add_argument("--out", required=True, help="output .md")
    parser.add_argument("--headline", required=True, help="output .json: the headline metrics")
    args = parser.parse_args()
    params = load(args.params)
    models = params["models"]
    train_metrics = {model: list(seeds.values()) for model, seeds in
                     load_runs(args.train_metrics, params, read_json, "test metrics", ".json").items()}
    subjects, probe, data, dynamics, reliance, channels = (read_json(existing(path, "metrics")) for path in (
        args.subject_metrics, args.probe_metrics, args.data_metrics, args.dynamics_metrics, args.reliance_metrics,
        args.channel_metrics))
    big, small = largest(models), smallest(models)
    verdicts = judged(models, subjects, probe, reliance)
    figures, dynamics_plots = (os.path.relpath(folder, Path(args.out).parent)
                               for folder in (args.figures, args.dynamics_plots))
    drawn = (Path(args.dynamics_plots) / DYNAMICS_FIGURE).is_file()
    text = markdown(data, params["subjects"], models, train_metrics, subjects, probe, verdicts, big, small, figures,
                    dynamics, dynamics_plots if drawn else None, reliance, channels)
    with atomic_path(args.out) as tmp:
        tmp.write_text(text)
    save_json(args.headline, headline(models, train_metrics, probe, verdicts))
    for verdict in verdicts:
        print(f"report: {verdict.verdict:>12}: {verdict.claim.split(' (')[0]}")


if __name__ == "__main__":
    run(main)
