"""The reference article's claims, and its two suggested measures, judged from the metrics.

The article compares a "benchmark" (more training data) with a "dummy" (less); here they are the
models with the largest and the smallest `train_size`. A comparison is *held* when the 95 %
bootstrap intervals over the probe images are apart in the claimed direction, *not held* when
they are apart the other way, and *inconclusive* when they overlap. Claims about the frog alone
(one image) are judged on that image, noted as such.
"""

from typing import NamedTuple

from lib.analysis import LAST
from lib.cifar import CLASSES, FROG
from lib.model import LAYERS

HELD, NOT_HELD, INCONCLUSIVE = "held", "not held", "inconclusive"
FIRST = LAYERS[0]


class Verdict(NamedTuple):
    claim: str
    verdict: str
    evidence: list


def interval(section, measure):
    """(mean, low, high) of a probe measure."""
    return section[measure], section[f"{measure}_low"], section[f"{measure}_high"]


def shown(name, values):
    mean, low, high = values
    return f"{name} {mean:.4g} [{low:.4g}, {high:.4g}]"


def greater(a, b):
    """Is interval a above interval b (held), below (not held), or overlapping (inconclusive)?"""
    if a[1] > b[2]:
        return HELD
    if a[2] < b[1]:
        return NOT_HELD
    return INCONCLUSIVE


def combine(verdicts):
    """Held if every part holds, not held if any part is reversed, else inconclusive."""
    if NOT_HELD in verdicts:
        return NOT_HELD
    return HELD if all(v == HELD for v in verdicts) else INCONCLUSIVE


def compare(probe, big, small, part, measure, bigger):
    """Verdict and evidence for "`bigger` model has the larger `measure` in `part`"."""
    a, b = interval(probe[big][part], measure), interval(probe[small][part], measure)
    verdict = greater(a, b) if bigger == big else greater(b, a)
    return verdict, f"{part} {measure}: {shown(big, a)} vs {shown(small, b)} → {verdict}"


def evaluate(frog, probe, big, small):
    """Every claim's verdict, with the numbers behind it."""
    verdicts = []

    v, line = compare(probe, big, small, FIRST, "input_corr", bigger=small)
    verdicts.append(Verdict(
        f"1. The {big} model's first-layer maps are more processed (less like the picture) than the {small}'s "
        f"(mean |correlation| of {FIRST} channels with the input, probe set).", v, [line]))

    zero_v, zero_line = compare(probe, big, small, LAST, "zero_fraction", bigger=big)
    mean_v, mean_line = compare(probe, big, small, LAST, "mean", bigger=small)
    verdicts.append(Verdict(
        f"2. The {big} model's last-layer ({LAST}) values concentrate near zero; the {small}'s have a longer tail "
        "(more exact zeros and a lower mean for the former, probe set).",
        combine([zero_v, mean_v]), [zero_line, mean_line]))

    parts, lines = [], []
    for model in (big, small):
        last, pixels = interval(probe[model][LAST], "entropy_bits"), interval(probe["input"], "entropy_bits")
        v = greater(pixels, last)
        parts.append(v)
        lines.append(f"{model}: {shown('input entropy', pixels)} vs {shown(LAST + ' entropy', last)} bits → {v}")
    verdicts.append(Verdict(
        "3. From the input to the last layer the distribution of values narrows (binned entropy, same number "
        "of bins, falls: the article's \"information gain\"), in both models (probe set).", combine(parts), lines))

    big_out, small_out = frog[big]["output"], frog[small]["output"]
    right = big_out["predicted"] == CLASSES[FROG]
    wrong = small_out["predicted"] != CLASSES[FROG]
    surer = big_out["softmax_entropy_bits"] < small_out["softmax_entropy_bits"]
    frog_v = HELD if right and wrong and surer else NOT_HELD
    acc_v, acc_line = compare(probe, big, small, "output", "accuracy", bigger=big)
    ent_v, ent_line = compare(probe, big, small, "output", "softmax_entropy_bits", bigger=small)
    verdicts.append(Verdict(
        f"4. On the frog, the {big} model is confident and right; the {small} is unsure and picks a wrong class "
        "(judged on the frog; the probe set shows whether the pattern generalises).",
        frog_v,
        [f"frog: {big} predicts {big_out['predicted']} (p_frog {big_out['p_frog']:.3f}, softmax entropy "
         f"{big_out['softmax_entropy_bits']:.3f} bits); {small} predicts {small_out['predicted']} (p_frog "
         f"{small_out['p_frog']:.3f}, softmax entropy {small_out['softmax_entropy_bits']:.3f} bits) → {frog_v}",
         f"probe set, {acc_line}", f"probe set, {ent_line}"]))

    v, line = compare(probe, big, small, LAST, "mean", bigger=small)
    verdicts.append(Verdict(
        f"Suggested measure A: the mean activation of the last layer is closer to zero for the {big} model "
        "(probe set).", v, [line]))
    v, line = compare(probe, big, small, LAST, "channel_corr", bigger=small)
    verdicts.append(Verdict(
        f"Suggested measure B: the correlation between the last layer's channels is higher for the {small} model "
        "(probe set).", v, [line]))
    return verdicts
