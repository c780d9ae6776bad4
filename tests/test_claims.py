import copy

import pytest

from lib.claims import HELD, INCONCLUSIVE, NOT_HELD, combine, evaluate, greater
from lib.report import markdown


def ci(mean, half=0.01):
    return {"": mean, "_low": mean - half, "_high": mean + half}


def measures(**values):
    section = {}
    for name, value in values.items():
        section.update({f"{name}{suffix}": v for suffix, v in ci(value).items()})
    return section


def model_probe(zero, mean, corr, input_corr, entropy, accuracy, softmax_entropy):
    return {"conv2d_1": measures(input_corr=input_corr),
            "dense_1": measures(zero_fraction=zero, mean=mean, channel_corr=corr, entropy_bits=entropy),
            "output": measures(accuracy=accuracy, softmax_entropy_bits=softmax_entropy)}


PROBE = {"benchmark": model_probe(0.8, 0.03, 0.10, 0.2, 1.3, 0.71, 1.1),
         "dummy": model_probe(0.7, 0.06, 0.20, 0.4, 1.9, 0.54, 1.5),
         "input": measures(entropy_bits=4.5)}
FROG = {"benchmark": {"output": {"predicted": "frog", "p_frog": 0.8, "softmax_entropy_bits": 1.2}},
        "dummy": {"output": {"predicted": "cat", "p_frog": 0.3, "softmax_entropy_bits": 2.3}}}


def verdicts(frog=FROG, probe=PROBE):
    return [v.verdict for v in evaluate(frog, probe, "benchmark", "dummy")]


def test_interval_comparison_and_combination():
    assert greater((2, 1.9, 2.1), (1, 0.9, 1.1)) == HELD
    assert greater((1, 0.9, 1.1), (2, 1.9, 2.1)) == NOT_HELD
    assert greater((1, 0.9, 1.6), (1.5, 1.4, 1.6)) == INCONCLUSIVE
    assert combine([HELD, HELD]) == HELD
    assert combine([HELD, INCONCLUSIVE]) == INCONCLUSIVE
    assert combine([HELD, NOT_HELD, INCONCLUSIVE]) == NOT_HELD


def test_metrics_that_bear_the_article_out_hold_every_claim():
    assert verdicts() == [HELD] * 6


@pytest.mark.parametrize("change, flipped", [
    (lambda p, f: p["benchmark"]["conv2d_1"].update(measures(input_corr=0.6)), {0: NOT_HELD}),
    (lambda p, f: p["benchmark"]["conv2d_1"].update(measures(input_corr=0.405)), {0: INCONCLUSIVE}),
    (lambda p, f: p["benchmark"]["dense_1"].update(measures(zero_fraction=0.6)), {1: NOT_HELD}),
    (lambda p, f: p["benchmark"]["dense_1"].update(measures(mean=0.059)), {1: INCONCLUSIVE, 4: INCONCLUSIVE}),
    (lambda p, f: p["benchmark"]["dense_1"].update(measures(mean=0.09)), {1: NOT_HELD, 4: NOT_HELD}),
    (lambda p, f: p["dummy"]["dense_1"].update(measures(entropy_bits=4.7)), {2: NOT_HELD}),
    (lambda p, f: f["dummy"]["output"].update(predicted="frog"), {3: NOT_HELD}),
    (lambda p, f: f["benchmark"]["output"].update(softmax_entropy_bits=2.5), {3: NOT_HELD}),
    (lambda p, f: p["dummy"]["dense_1"].update(measures(channel_corr=0.105)), {5: INCONCLUSIVE}),
])
def test_synthetic_metrics_flip_the_verdicts_they_bear_on_and_no_other(change, flipped):
    probe, frog = copy.deepcopy(PROBE), copy.deepcopy(FROG)
    change(probe, frog)
    assert verdicts(frog, probe) == [flipped.get(i, HELD) for i in range(6)]


def test_the_report_states_each_verdict_with_its_numbers():
    found = evaluate(FROG, PROBE, "benchmark", "dummy")
    models = {"dummy": {"train_size": 100}, "benchmark": {"train_size": 500}}
    runs = {m: [{"test_accuracy": 0.5, "epochs_run": 10}, {"test_accuracy": 0.6, "epochs_run": 12}] for m in models}
    frog = {m: {**FROG[m], "dense_1": {"entropy_bits": 1.0, "zero_fraction": 0.7}} for m in models}
    text = markdown({"frog": {"index": 0}, "probe_size": 1000}, models, runs, frog, PROBE, found, "benchmark",
                    "dummy", "analysis")
    assert text.count("**HELD**") == 6
    assert "zero_fraction: benchmark 0.8 [0.79, 0.81] vs dummy 0.7 [0.69, 0.71] → held" in text
    assert "| dummy | 100 | 2 | 0.5500 ± 0.0707 | 11.0 | cat (0.300) |" in text
    assert "![First-layer feature maps of the frog (article figs. 2-3)](analysis/feature_maps_conv2d_1.png)" in text
