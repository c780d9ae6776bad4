"""plots/report.md: the claims, one table of the models, the figures; Markdown any git host renders."""

from lib.dynamics import DIFFERS, RESEMBLES
from lib.keys import OUTPUT, interval, pair_models, role_layer, spread
from lib.files import CKA_FIGURE, DYNAMICS_FIGURE, SUBJECT_FIGURE_FILES, SUBJECT_FIGURES, SWEEP_FIGURE
from lib.model import imported, trained_sizes
from lib.stats import interval_text, over_seeds

ARTICLE = "the article's figs. 2-8 show these for its frog"


def ci(section, measure):
    """A measure of a summary with its interval, to three decimals."""
    return interval_text(interval(section, measure), ".3f")


def model_rows(models, train_metrics, subjects, probe):
    """One row per model: its data, test accuracy, what it makes of each subject, probe-set numbers."""
    header = ("| model | network | train size | seeds | test accuracy (± sd over seeds) | epochs | "
              + "".join(f"{name} → (p of its label) | " for name in subjects)
              + "last hidden layer | probe accuracy [95 % CI] | probe softmax entropy, bits |")
    lines = [header, "|" + " --- |" * (header.count("|") - 1)]
    for model, settings in models.items():
        runs = over_seeds([{k: m[k] for k in ("test_accuracy", "epochs_run")} for m in train_metrics[model]])
        network = f"imported `{settings['keras']}`" if imported(settings) else settings["architecture"]
        epochs = "" if runs["epochs_run"] is None else f"{runs['epochs_run']:.1f}"
        said = "".join(f"{s['models'][model]['output']['predicted']}"
                       + (f" ({s['models'][model]['output']['p_label']:.3f})" if s["label"] else "") + " | "
                       for s in subjects.values())
        summary = probe["models"][model]
        lines.append(
            f"| {model} | {network} | {settings.get('train_size', '—')} | {len(train_metrics[model])} "
            f"| {runs['test_accuracy']:.4f} ± {runs[spread('test_accuracy')]:.4f} | {epochs} | {said}"
            f"{role_layer(summary, 'last_hidden')} | {ci(summary[OUTPUT], 'accuracy')} "
            f"| {ci(summary[OUTPUT], 'softmax_entropy_bits')} |")
    return lines


def subject_line(name, facts):
    where = (f"{facts['split']} image {facts['index']}" if "split" in facts else f"the file `{facts['file']}`")
    return f"**{name}** ({where}{', a ' + facts['label'] if facts.get('label') else ', no label'})"


def number(value):
    return "—" if value is None else f"{value:.4g}"


def early_lines(small, found):
    """The early-checkpoint comparison of one smaller model, as a table and a sentence."""
    top, epochs = found["largest"], found["epochs"]
    at = ", ".join(f"seed {seed}: epoch {epoch}" for seed, epoch in epochs.items())
    lines = [f"### {small} beside {top}'s early checkpoint", "",
             f"{small}'s best validation accuracy {found['val_accuracy']['model']:.4f}; {top}'s closest checkpoint "
             f"({at}) {found['val_accuracy']['checkpoint']:.4f}.", "",
             f"| measure | {small} | {top}, early | {top}, best | {small} − early [95 % CI] | "
             f"{small} − {top} [95 % CI] | progress | verdict |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, m in found["measures"].items():
        progress = number(m["progress"])
        gaps = [interval(m, gap) for gap in ("minus_checkpoint", "minus_largest")]
        lines.append(f"| {name} | {number(m['model'])} | {number(m['checkpoint'])} | {number(m['largest'])} | "
                     + " | ".join(f"{number(mean)} [{number(low)}, {number(high)}]" for mean, low, high in gaps)
                     + f" | {progress} | {m['verdict']} |")
    alike = [name for name, m in found["measures"].items() if m["verdict"] == RESEMBLES]
    unlike = [name for name, m in found["measures"].items() if m["verdict"] == DIFFERS]
    if found["verdict"] == RESEMBLES:
        said = (f"**{small} resembles an early {top}**: on every measure the difference's interval contains 0, so "
                f"at (about) the same validation accuracy the two last layers cannot be told apart. By these numbers {small} "
                "learned less; it did not learn differently from fewer images.")
    elif found["verdict"] == DIFFERS:
        said = (f"**{small} differs from an early {top}**: on every measure the difference's interval excludes 0, so "
                f"even at (about) the same validation accuracy its last layer is not what {top}'s was. By these numbers the "
                "differences the claims find are not only a matter of how far training got.")
    else:
        said = (f"**Mixed**: {small} resembles the early {top} on {', '.join(alike) or 'no measure'} (interval "
                f"contains 0) and differs on {', '.join(unlike) or 'no measure'}.")
    return lines + ["", said + where(small, top, found["measures"]), ""]


def where(small, top, measures):
    """A sentence placing the smaller model between the early checkpoint and the largest model's best epoch."""
    places = {"between the two": [], "beyond the checkpoint, away from the best epoch": [],
              "beyond the best epoch": []}
    for name, m in measures.items():
        if m["verdict"] == DIFFERS and m["progress"] is not None:
            place = ("between the two" if 0 <= m["progress"] <= 1 else "beyond the best epoch" if m["progress"] > 1
                     else "beyond the checkpoint, away from the best epoch")
            places[place].append(f"{name} ({m['progress']:.2f})")
    said = "; ".join(f"{place} on {', '.join(names)}" for place, names in places.items() if names)
    return (f" On the way from the early checkpoint (0) to {top}'s best epoch (1), {small} sits {said}." if said
            else "")


def reliance_lines(reliance):
    """Per model and layer with channels, the ablation summaries and selectivity against importance,
    each beside its baseline."""
    lines = ["Each layer's channels zeroed in a growing share (" + f"{reliance['orders']} random orders, every count) and "
             "the rest of the network run on the probe set (lib/reliance.py). *Retained area*: the area under the "
             "accuracy kept above chance against the share zeroed (1: nothing lost until every channel is gone). "
             "*Half-drop share*: the share zeroed when accuracy is half way to chance. *Top importance*: the most "
             "accuracy one channel alone costs, beside (*random*) the most that projecting out one of as many random "
             "directions of the layer's space costs (Morcos et al.'s baseline). *Mean selectivity*: beside the "
             "untrained network's (its initial weights) and with the probe labels permuted. *Spearman*: selectivity "
             "against importance across the layer's channels. Intervals: 95 %, over seeds and probe images.", "",
             "| model | layer | channels | intact accuracy | retained area | half-drop share | top importance "
             "(random) | mean selectivity (untrained; permuted) | Spearman, selectivity vs importance |", "|" + " --- |" * 9]
    for model, layer, m in layers_of(reliance):
        shown = " | ".join(with_ci(m, name) for name in ("intact_accuracy", "retained_area", "half_drop_share"))
        lines.append(f"| {model} | {layer} | {m['channels']} | {shown} | {number(m['top_importance'])} "
                     f"({number(m['random_direction_top_importance'])}) | {number(m['mean_selectivity'])} "
                     f"({number(m['mean_selectivity_initial'])}; {number(m['mean_selectivity_permuted'])}) "
                     f"| {with_ci(m, 'selectivity_importance_spearman')} |")
    lines += [f"- Not ablated: {model} {layer}: {reason}." for model, summary in reliance["models"].items()
              for layer, reason in summary.get("skipped", {}).items()]
    return lines


def damage_lines(reliance):
    """Per model and layer with channels, what zeroing one channel costs each class (lib.damage)."""
    lines = ["What zeroing one channel alone costs each class (lib/damage.py; Zhou et al. 2018). *Matched*: the "
             "channels whose most-hurt class (the largest accuracy drop; ties told apart by the loss, then shared) is "
             "their selective class (the largest mean activity), of those with one; beside it the mean matched with "
             "the channels permuted (chance) and its 95th percentile. *Max-class drop*: the accuracy the most-hurt "
             "class loses, mean over channels, beside (*random*) a random direction's. *Spearman*: selectivity against "
             "the max-class drop, and that minus its Spearman with the overall drop (the gap). Means over seeds.", "",
             "| model | layer | matched (chance; 95th pct) | match − chance | max-class drop (random) | Spearman, "
             "selectivity vs max-class drop | gap | tied on accuracy |", "|" + " --- |" * 8]
    lines += [f"| {model} | {layer} | {number(m['hurt_matched'])} of {number(m['hurt_defined'])} "
              f"({number(m['hurt_matched_chance'])}; {number(m['hurt_matched_chance_p95'])}) | "
              f"{with_ci(m, 'hurt_match_over_chance')} | {number(m['mean_max_class_drop'])} "
              f"({number(m['random_direction_max_class_drop'])}) | {with_ci(m, 'max_drop_spearman')} | "
              f"{with_ci(m, 'spearman_gap')} | {number(m['tied_on_accuracy'])} |"
              for model, layer, m in layers_of(reliance) if "hurt_matched" in m]
    return lines


def layers_of(metrics):
    """(model, layer, its numbers) of every model's layers in a metrics file's "models"."""
    return [(model, layer, m) for model, summary in metrics["models"].items() for layer, m in summary["layers"].items()]


def with_ci(section, name):
    """A number of `section` with its interval, to four significant digits ("—" for none)."""
    return interval_text(interval(section, name), ".4g", "— [—, —]")


def specificity_lines(channels):
    """Class specificity per model and layer beside its two baselines, and the pairs' differences."""
    chance = channels["chance"]
    lines = [f"*Class specificity*: the share of a channel's top {channels['top']} images of the official test "
             "split (by its peak over positions; images tied at the last place share it) in their most frequent "
             "class, averaged over the layer's channels that are not constant (lib/channels.py). Its baselines: "
             f"*chance*, {number(chance['class_specificity'])} (95th percentile "
             f"{number(chance['class_specificity_p95'])}), the share of the most frequent class among "
             f"{channels['top']} test images drawn at random; and the *untrained* network's own specificity "
             "(its initial weights). *Gain*: specificity − untrained, the part training made. *Ties*: median "
             f"(largest) number of images tied at the {channels['top']}th place. Intervals: 95 %, over seeds and "
             "test images, bias-corrected.", "",
             "| model | layer | specificity | untrained | gain over untrained | ties |", "|" + " --- |" * 6]
    lines += [f"| {model} | {layer} | {with_ci(m, 'class_specificity')} | {with_ci(m, 'class_specificity_initial')} | "
              f"{with_ci(m, 'class_specificity_over_initial')} | {number(m['tied_at_tally_median'])} "
              f"({number(m['tied_at_tally_max'])}) |" for model, layer, m in layers_of(channels)]
    for pair, found in channels["pairs"].items():
        a, b = pair_models(pair)
        said = "; ".join(f"{layer} specificity {with_ci(d, 'class_specificity')}, gain over untrained "
                         f"{with_ci(d, 'class_specificity_over_initial')}"
                         for layer, d in found["difference"]["layers"].items())
        lines += ["", f"{a} − {b}: {said}."]
    return lines


def channel_lines(channels):
    """What the channels respond to: class specificity with its baselines, and the sanity check of
    the subjects' maps."""
    checked = {model: summary.get("attribution", {}) for model, summary in channels["models"].items()}
    return specificity_lines(channels) + [
        "", "Sanity check of the subjects' maps (Adebayo et al. 2018): the network's layers re-initialised from the "
        "top down; a map is flagged when, fully randomised, its Spearman correlation with the trained map (signed "
        "or of magnitudes) is nearer 1 than the correlation between two independent initialisations' maps (the "
        "baseline: what the picture alone makes unrelated networks share); undefined where a map is constant. "
        + "; ".join(f"{model}: " + ", ".join(
            f"{method.replace('_', ' ')} {s['flagged']} of {s['maps']} flagged"
            + (f", {s['undefined']} undefined" if s['undefined'] else "")
            + (f" (ρ with the randomised map {number(s['mean_rank_correlation_signed'])} signed, "
               f"{number(s['mean_rank_correlation_absolute'])} of magnitudes; baseline "
               f"{number(s['mean_baseline_signed'])}, {number(s['mean_baseline_absolute'])})"
               if s['mean_baseline_absolute'] is not None else "")
            + (f"; completeness gap up to {number(100 * s['largest_completeness_gap'])} %, {s['incomplete']} "
               "beyond the tolerance" if "largest_completeness_gap" in s else "")
            for method, s in methods.items()) for model, methods in checked.items()) + "."]


def opening_lines(data, params_subjects, models, seeds, verdicts, big, small):
    """The report's title, what was run, and how the claims are judged."""
    sizes = ", ".join(f"{model} (imported)" if imported(settings) else f"{model} ({settings['train_size']} training "
                      "images)" for model, settings in models.items())
    facts = {name: {**s, "label": data["subjects"][name]} for name, s in params_subjects.items()}
    lines = [
        "# What the CNNs learned: report",
        "",
        "Written by the `report` stage from `metrics/*.json`; every number and verdict below is computed, "
        "none is typed in. Regenerate with `dvc repro`.",
        "",
        f"Models: {sizes}; {seeds} training seed{'s' if seeds > 1 else ''} each. Subjects: "
        + ", ".join(subject_line(name, f) for name, f in facts.items())
        + f"; training images among them are held out of every subset. The probe set is {data['probe_size']} "
        "class-balanced test images.",
        "",
        f"The claims compare **{big}** (most training data) with **{small}** (least)." if verdicts else
        "The claims compare two models trained here on different amounts of data: add a second one to judge them.",
        "",
        "## Claims",
        "",
        "Verdicts are judged on the 95 % interval of each difference (one model minus the other, or the input "
        "minus a layer) from a hierarchical, paired bootstrap: training seeds drawn with replacement, then the "
        "same probe images for both sides. *Held* when the interval lies on the claimed side of zero, *not held* "
        "when on the other, *inconclusive* when it contains zero, *not judged* where a measure is undefined "
        "(say, the channel correlation of a layer with no varying channel) or a subject has no label. Each "
        "model's own interval (over images, seeds averaged) is shown beside it.",
        "",
    ]
    if verdicts and seeds == 1:
        lines += ["**Provisional:** one training seed, so the intervals cover probe images only, not the "
                  "seed-to-seed variation of training; set `train.seeds` to e.g. `[0, 1, 2]` for verdicts that do.", ""]
    for verdict in verdicts:
        lines += [f"- **{verdict.verdict.upper()}** — {verdict.claim}"]
        lines += [f"  - {line}" for line in verdict.evidence]
    return lines


def early_section(early, seeds):
    """The early-checkpoint comparison's section (none without one)."""
    if not early:
        return []
    lines = ["", "## Early checkpoint as dummy", "",
             "Does a smaller model's last layer look different because it saw less data, or because it learned "
             "less? Each smaller model is set beside the largest model's checkpoint whose validation accuracy is "
             "closest to the smaller model's best (per seed), on the claims' measures over the probe set. "
             "Differences are the smaller model minus the other side, with the claims' seed-aware, paired "
             "intervals; it *resembles* the checkpoint on a measure when that interval contains 0. *Progress*: "
             "where the smaller model sits on the way from the early checkpoint (0) to the largest model's best "
             "epoch (1); between 0 and 1 it lies between them, below 0 beyond the checkpoint (away from the best "
             "epoch), above 1 beyond the best epoch.", ""]
    if seeds == 1:
        lines += ["**Provisional:** one training seed (see above).", ""]
    for name, found in early.items():
        lines += early_lines(name, found)
    return lines


def figure_lines(models, subjects, figures_dir, dynamics_dir):
    """The figures' section: each subject's, CKA, the size sweep and the dynamics where drawn."""
    lines = ["", "## Figures", "", f"Per subject ({ARTICLE}):", ""]
    for name in subjects:
        lines += [f"### {name}", ""]
        for file, caption in SUBJECT_FIGURE_FILES.items():
            lines += [f"![{name}: {caption}]({figures_dir}/{SUBJECT_FIGURES.format(name=name)}/{file})", ""]
    lines += ["### Linear CKA between the layers of two models, probe set", "",
              f"![Linear CKA between the layers of two models, probe set]({figures_dir}/{CKA_FIGURE})", ""]
    if len(trained_sizes(models)) > 1:
        lines += ["### By training-set size", "",
                  f"![Measures by training-set size, probe set]({figures_dir}/{SWEEP_FIGURE})", ""]
    if dynamics_dir:
        lines += ["### Over training", "",
                  f"![The probe set through each replayed checkpoint]({dynamics_dir}/{DYNAMICS_FIGURE})", ""]
    return lines


def markdown(data, params_subjects, models, train_metrics, subjects, probe, verdicts, big, small, figures_dir,
             dynamics, dynamics_dir, reliance=None, channels=None):
    """The whole report as Markdown text; `figures_dir` and `dynamics_dir` are relative to the report."""
    seeds = len(next(iter(train_metrics.values())))
    lines = opening_lines(data, params_subjects, models, seeds, verdicts, big, small)
    lines += early_section(dynamics["early_checkpoint"], seeds)
    if reliance:
        lines += ["", "## Reliance on single channels", ""] + reliance_lines(reliance) + [""] + damage_lines(reliance)
    if channels:
        lines += ["", "## What the channels respond to", ""] + channel_lines(channels)
    lines += ["", "## Models", ""] + model_rows(models, train_metrics, subjects, probe)
    lines += figure_lines(models, subjects, figures_dir, dynamics_dir)
    return "\n".join(lines).rstrip() + "\n"
