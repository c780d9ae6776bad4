"""The reference article's claims, its two suggested measures, two claims of Morcos et al. 2018
about single channels (R1, R2: lib.reliance) and one of Zhou et al. 2018 (R3: lib.damage), judged
from the metrics.

The article compares a "benchmark" (more training data) with a "dummy" (less); here they are the
models trained here with the largest and the smallest `train_size`. Layers are found by their
roles (lib.model), so the claims apply to any architecture. A comparison is judged on the 95 %
interval of the difference (one model minus the other, or the input minus a layer) from the
analysis' hierarchical, paired bootstrap, which resamples training seeds and then the same probe
images on both sides: *held* when the interval lies wholly on the claimed side of zero, *not held*
when wholly on the other, *inconclusive* when it contains zero. With one seed the intervals
cannot cover seed-to-seed variation, and the report calls the verdicts provisional. The claim
about a single image is judged on each subject that has a label, noted as such. R2 says that a
correlation is near zero, so it is judged against a band (± lib.reliance.PREDICTIVE) instead of
zero: held when the interval lies wholly inside it, not held when wholly outside it on either side
(a strong negative correlation predicts too, inversely), else inconclusive. R3 is judged per model
on its own intervals (the hurt match above its permutation chance, the correlation of selectivity
with the max-class drop above zero); how that correlation compares with the overall drop's (the
Spearman gap) and the comparison of the two models are stated beside the verdict, not part of it.
"""

from typing import NamedTuple

from lib.damage import JUDGED
from lib.keys import OUTPUT, find_pair, interval, measured_key, role_layer, role_section
from lib.model import COMPARED_ROLES, largest, smallest
from lib.reliance import PREDICTIVE
from lib.stats import interval_text

HELD, NOT_HELD, INCONCLUSIVE, NOT_JUDGED = "held", "not held", "inconclusive", "not judged"


class Verdict(NamedTuple):
    claim: str
    verdict: str
    evidence: list
    refs: tuple = ()  # the numbers judged: (role, measure) pairs ("output" for the softmax; a measure of
    # lib.reliance.SHOWN is in metrics/reliance.json), ("subject", name)


def shown(name, values):
    """A named number with its interval, as the verdicts say it."""
    return f"{name} {interval_text(values)}"


def sign_of(difference):
    """Held if the interval of a difference lies above zero, not held if below, else inconclusive;
    not judged where it is undefined."""
    _, low, high = difference
    if low is None or high is None:
        return NOT_JUDGED
    return HELD if low > 0 else NOT_HELD if high < 0 else INCONCLUSIVE


def difference(probe, a, b, role, measure):
    """(mean, low, high) of a − b for a role layer's (or the output's) measure, from the pair's
    seed-aware, paired bootstrap."""
    pair, flip = find_pair(probe["pairs"], a, b)
    found = pair["difference"]
    part = found[OUTPUT] if role == OUTPUT else found["layers"][layer_label(probe, role, a, b)]
    mean, low, high = interval(part, measure)
    if flip and mean is not None:
        return -mean, -high, -low
    return mean, low, high


def combine(verdicts):
    """Held if every part holds, not held if any part is reversed, not judged if any part cannot be,
    else inconclusive."""
    for verdict in (NOT_HELD, NOT_JUDGED):
        if verdict in verdicts:
            return verdict
    return HELD if all(v == HELD for v in verdicts) else INCONCLUSIVE


def layer_label(probe, role, a, b):
    """Where the comparison of two models at `role` finds its numbers (lib.keys.measured_key)."""
    return measured_key(role, *(probe["models"][model]["roles"].get(role) for model in (a, b)))


def compare(probe, big, small, role, measure, bigger):
    """Verdict and evidence for "`bigger` model has the larger `measure` in the layer playing `role`"."""
    a, b = (interval(role_section(probe["models"][model], role), measure) for model in (big, small))
    other = small if bigger == big else big
    gap = difference(probe, bigger, other, role, measure)
    verdict = sign_of(gap)
    layer = layer_label(probe, role, big, small)
    return verdict, f"{layer} {measure}: {shown(big, a)} vs {shown(small, b)}; {shown(f'{bigger} − {other}', gap)} → {verdict}"


def single_image(name, subject, big, small):
    """Claim 4 on one subject: the big model right and surer, the small one wrong."""
    label = subject["label"]
    if label is None:
        return NOT_JUDGED, f"{name}: no label, so right and wrong are undefined → {NOT_JUDGED}"
    big_out, small_out = subject["models"][big][OUTPUT], subject["models"][small][OUTPUT]
    right = big_out["predicted"] == label
    wrong = small_out["predicted"] != label
    surer = big_out["softmax_entropy_bits"] < small_out["softmax_entropy_bits"]
    verdict = HELD if right and wrong and surer else NOT_HELD
    said = [f"{model} predicts {out['predicted']} (p_{label} {out['p_label']:.3f}, softmax entropy "
            f"{out['softmax_entropy_bits']:.3f} bits)" for model, out in ((big, big_out), (small, small_out))]
    return verdict, f"{name}: {'; '.join(said)} → {verdict}"


def narrowing_verdict(probe, big, small):
    """Claim 3: the input's scaled entropy above the last hidden layer's, in both models."""
    parts, lines = [], []
    for model in (big, small):
        hidden, pixels = interval(role_section(probe["models"][model], "last_hidden"), "entropy_scaled_bits"), \
            interval(probe["input"], "entropy_scaled_bits")
        drop = interval(probe["models"][model]["narrowing"], "entropy_drop_bits")
        v = sign_of(drop)
        parts.append(v)
        last = role_layer(probe["models"][model], "last_hidden")
        lines.append(f"{model}: {shown('input scaled entropy', pixels)} vs {shown(last + ' scaled entropy', hidden)}; "
                     f"{shown('drop', drop)} bits → {v}")
    return Verdict(
        "3. From the input to the last layer the distribution of values narrows (binned entropy, the same "
        "number of bins over each one's own range, falls: the article's \"information gain\"), in both models "
        "(probe set).", combine(parts), lines, (("last_hidden", "entropy_scaled_bits"),))


def subject_verdicts(subjects, probe, big, small):
    """Claim 4, one verdict per subject, beside the probe set's accuracy and softmax entropy."""
    _, acc_line = compare(probe, big, small, OUTPUT, "accuracy", bigger=big)
    _, ent_line = compare(probe, big, small, OUTPUT, "softmax_entropy_bits", bigger=small)
    verdicts = []
    for name, subject in subjects.items():
        v, line = single_image(name, subject, big, small)
        verdicts.append(Verdict(
            f"4. On the {name}, the {big} model is confident and right; the {small} is unsure and picks a wrong class "
            "(judged on that one image; the probe set shows whether the pattern generalises).",
            v, [line, f"probe set, {acc_line}", f"probe set, {ent_line}"],
            (("subject", name), (OUTPUT, "accuracy"), (OUTPUT, "softmax_entropy_bits"))))
    return verdicts


def evaluate(subjects, probe, big, small):
    """Every claim's verdict, with the numbers behind it."""
    verdicts = []
    first = layer_label(probe, "first_conv", big, small)
    last = layer_label(probe, "last_hidden", big, small)

    v, line = compare(probe, big, small, "first_conv", "input_corr", bigger=small)
    verdicts.append(Verdict(
        f"1. The {big} model's first-layer maps are more processed (less like the picture) than the {small}'s "
        f"(mean |correlation| of {first} channels with the input, probe set).", v, [line],
        (("first_conv", "input_corr"),)))

    zero_v, zero_line = compare(probe, big, small, "last_hidden", "zero_fraction", bigger=big)
    mean_v, mean_line = compare(probe, big, small, "last_hidden", "mean", bigger=small)
    verdicts.append(Verdict(
        f"2. The {big} model's last-layer ({last}) values concentrate near zero; the {small}'s have a longer tail "
        "(more exact zeros and a lower mean for the former, probe set).",
        combine([zero_v, mean_v]), [zero_line, mean_line],
        (("last_hidden", "zero_fraction"), ("last_hidden", "mean"))))

    verdicts.append(narrowing_verdict(probe, big, small))
    verdicts += subject_verdicts(subjects, probe, big, small)

    v, line = compare(probe, big, small, "last_hidden", "mean", bigger=small)
    verdicts.append(Verdict(
        f"Suggested measure A: the mean activation of the last layer is closer to zero for the {big} model "
        "(probe set).", v, [line], (("last_hidden", "mean"),)))
    v, line = compare(probe, big, small, "last_hidden", "channel_corr", bigger=small)
    verdicts.append(Verdict(
        f"Suggested measure B: the correlation between the last layer's channels is higher for the {small} model "
        "(probe set).", v, [line], (("last_hidden", "channel_corr"),)))
    return verdicts


def within(values, bound):
    """Held if an interval lies wholly inside (−bound, bound), not held if wholly outside it on
    either side, else inconclusive; not judged where it is undefined."""
    _, low, high = values
    if low is None or high is None:
        return NOT_JUDGED
    return HELD if -bound < low and high < bound else NOT_HELD if low >= bound or high <= -bound else INCONCLUSIVE


def ablated(reliance, model, role):
    """Whether the model's layer playing `role` was ablated (a layer that cannot be is skipped)."""
    return reliance["models"][model]["roles"].get(role) in reliance["models"][model]["layers"]


def unablated(model, role):
    return NOT_JUDGED, f"{model}: its {role.replace('_', ' ')} layer was not ablated → {NOT_JUDGED}"


def compare_ablated(reliance, big, small, role, measure):
    """compare() of the larger model's `measure` at `role` against the smaller's; not judged where
    either model's layer was not ablated."""
    for model in (big, small):
        if not ablated(reliance, model, role):
            return unablated(model, role)
    return compare(reliance, big, small, role, measure, bigger=big)


def reliance_verdicts(reliance, big, small):
    """The claims of Morcos et al. 2018 about reliance on single channels, judged from
    metrics/reliance.json (lib.reliance) at the first convolution and the last hidden layer."""
    parts, lines = zip(*(compare_ablated(reliance, big, small, role, "retained_area") for role in COMPARED_ROLES))
    verdicts = [Verdict(
        f"R1. The {small} model leans more on single channels than the {big}: zeroing a growing share of a "
        f"layer's channels costs it more of its accuracy above chance (a smaller retained area under the "
        "ablation curve), at the first convolution and at the last hidden layer (probe set; Morcos et al. 2018).",
        combine(list(parts)), list(lines), tuple((role, "retained_area") for role in COMPARED_ROLES))]
    parts, lines = [], []
    for model in (big, small):
        for role in COMPARED_ROLES:
            if not ablated(reliance, model, role):
                parts.append(NOT_JUDGED)
                lines.append(unablated(model, role)[1])
                continue
            layer = role_layer(reliance["models"][model], role)
            rho = interval(role_section(reliance["models"][model], role), "selectivity_importance_spearman")
            parts.append(within(rho, PREDICTIVE))
            lines.append(f"{model} {layer}: {shown('Spearman of selectivity with importance', rho)} → {parts[-1]}")
    verdicts.append(Verdict(
        "R2. A channel's class selectivity does not predict its importance: across a layer's channels the rank "
        f"correlation of the two lies between −{PREDICTIVE} and {PREDICTIVE} (95 % interval), at the first convolution and the last "
        "hidden layer of both models (probe set; Morcos et al. 2018).", combine(parts), lines,
        tuple((role, "selectivity_importance_spearman") for role in COMPARED_ROLES)))
    return verdicts


def zhou_part(reliance, model, role, measure, said):
    """(verdict, line) of one model's `measure` at `role`, judged by the side of zero of its interval."""
    layer = reliance["models"][model]["roles"].get(role)
    numbers = reliance["models"][model]["layers"].get(layer)
    if numbers is None or measure not in numbers:
        return unablated(model, role)
    values = interval(numbers, measure)
    return sign_of(values), f"{model} {layer}: {shown(said, values)} → {sign_of(values)}"


def zhou_verdict(reliance, big, small):
    """R3 (Zhou et al. 2018) for both models at the roles JUDGED: the hurt match above its chance and
    selectivity correlated with the max-class drop; beside it, how that correlation compares with the
    overall drop's, and the two models compared."""
    parts, lines = [], []
    for model in (big, small):
        for role in JUDGED:
            numbers = reliance["models"][model]["layers"].get(reliance["models"][model]["roles"].get(role), {})
            for measure, said in (("hurt_match_over_chance", "hurt match − chance"),
                                  ("max_drop_spearman", "Spearman of selectivity with the max-class drop")):
                verdict, line = zhou_part(reliance, model, role, measure, said)
                parts.append(verdict)
                if measure == "hurt_match_over_chance" and "hurt_matched" in numbers:
                    line += (f" ({numbers['hurt_matched']:.4g} of {numbers['hurt_defined']:.4g} channels; chance "
                             f"{numbers['hurt_matched_chance']:.4g}, 95th percentile {numbers['hurt_matched_chance_p95']:.4g})")
                lines.append(line)
            _, line = zhou_part(reliance, model, role, "spearman_gap", "beside it, minus the Spearman with the overall drop")
            lines.append(line)
    lines += [f"is the {big}'s reliance more class-specific? "
              f"{compare_ablated(reliance, big, small, role, 'hurt_match_over_chance')[1]}" for role in JUDGED]
    return Verdict(
        "R3. Zeroing one channel hurts most the class the channel is selective for more often than chance (its "
        "channels permuted), and the more selective a channel, the more accuracy its most-hurt class loses (rank "
        "correlation above zero), at the last convolution and the last hidden layer of both models (probe set; Zhou "
        "et al. 2018).", combine(parts), lines,
        (("last_hidden", "hurt_match_over_chance"), ("last_hidden", "max_drop_spearman")))


def judged(models, subjects, probe, reliance=None):
    """Every claim's verdict for the models of params: the one trained here on the most images against
    the one on the fewest (and, given `reliance`, the claims about single channels); none where
    that is one model."""
    big, small = largest(models), smallest(models)
    if big == small:
        return []
    if not reliance:
        return evaluate(subjects, probe, big, small)
    return evaluate(subjects, probe, big, small) + reliance_verdicts(reliance, big, small) + [zhou_verdict(reliance, big, small)]
