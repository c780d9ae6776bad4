import copy

import pytest

from lib.claims import HELD, INCONCLUSIVE, NOT_HELD, NOT_JUDGED, combine, evaluate, reliance_verdicts, sign_of, within
from lib.report import markdown

ROLES = {"first_conv": "conv2d_1", "last_hidden": "dense_1", "output": "dense_2"}


def ci(mean, half=0.01):
    return {"": mean, "_low": mean - half, "_high": mean + half}


def measures(**values):
    section = {}
    for name, value in values.items():
        section.update({f"{name}{suffix}": v for suffix, v in ci(value).items()})
    return section


def model_probe(zero, mean, corr, input_corr, entropy, accuracy, softmax_entropy, roles=ROLES):
    return {"roles": dict(roles),
            "layers": {roles["first_conv"]: measures(input_corr=input_corr),
                       roles["last_hidden"]: measures(zero_fraction=zero, mean=mean, channel_corr=corr,
                                                      entropy_scaled_bits=entropy)},
            "output": measures(accuracy=accuracy, softmax_entropy_bits=softmax_entropy)}


def minus(a, b, half=0.015):
    """What the analysis' paired bootstrap would give for a − b: here a fixed half-width."""
    out = {}
    for key, value in a.items():
        if key.endswith(("_low", "_high")) or key not in b:
            continue
        gap = None if value is None or b[key] is None else value - b[key]
        out.update({key: gap, f"{key}_low": None if gap is None else gap - half,
                    f"{key}_high": None if gap is None else gap + half})
    return out


def judged(probe):
    """`probe` with the differences the claims read, computed from its models' numbers."""
    probe = copy.deepcopy(probe)
    big, small = (probe["models"][m] for m in ("benchmark", "dummy"))
    layers = {}
    for role in ("first_conv", "last_hidden"):
        la, lb = big["roles"][role], small["roles"][role]
        layers[la if la == lb else role] = minus(big["layers"][la], small["layers"][lb])
    probe["pairs"] = {"benchmark_vs_dummy": {"difference": {"layers": layers,
                                                            "output": minus(big["output"], small["output"])}}}
    for model in probe["models"].values():
        hidden = model["layers"][model["roles"]["last_hidden"]]
        drop = minus({"entropy_drop_bits": probe["input"]["entropy_scaled_bits"]},
                     {"entropy_drop_bits": hidden["entropy_scaled_bits"]})
        model["narrowing"] = drop
    return probe


PROBE = {"seeds": 3, "models": {"benchmark": model_probe(0.8, 0.03, 0.10, 0.2, 1.3, 0.71, 1.1),
                                "dummy": model_probe(0.7, 0.06, 0.20, 0.4, 1.9, 0.54, 1.5)},
         "input": measures(entropy_scaled_bits=4.5)}
SUBJECTS = {"frog": {"label": "frog", "models": {
    "benchmark": {"output": {"predicted": "frog", "p_label": 0.8, "softmax_entropy_bits": 1.2}},
    "dummy": {"output": {"predicted": "cat", "p_label": 0.3, "softmax_entropy_bits": 2.3}}}}}


def verdicts(subjects=SUBJECTS, probe=PROBE):
    return [v.verdict for v in evaluate(subjects, judged(probe), "benchmark", "dummy")]


def test_a_difference_is_judged_by_the_side_of_zero_its_interval_lies_on():
    assert sign_of((0.2, 0.1, 0.3)) == HELD
    assert sign_of((-0.2, -0.3, -0.1)) == NOT_HELD
    assert sign_of((0.2, -0.1, 0.5)) == INCONCLUSIVE
    assert sign_of((None, None, None)) == NOT_JUDGED
    assert combine([HELD, HELD]) == HELD
    assert combine([HELD, INCONCLUSIVE]) == INCONCLUSIVE
    assert combine([HELD, NOT_HELD, INCONCLUSIVE]) == NOT_HELD


def test_an_undefined_measure_is_not_judged_and_says_so():
    probe = copy.deepcopy(PROBE)
    layers(probe, "dummy")["dense_1"].update(channel_corr=None, channel_corr_low=None, channel_corr_high=None)
    layers(probe, "dummy")["dense_1"].update(mean=None, mean_low=None, mean_high=None)
    found = evaluate(SUBJECTS, judged(probe), "benchmark", "dummy")
    assert [v.verdict for v in found] == [HELD, NOT_JUDGED, HELD, HELD, NOT_JUDGED, NOT_JUDGED]
    assert ("dense_1 channel_corr: benchmark 0.1 [0.09, 0.11] vs dummy undefined; dummy − benchmark undefined "
            "→ not judged") in found[5].evidence
    assert combine([HELD, NOT_JUDGED, INCONCLUSIVE]) == NOT_JUDGED
    assert combine([NOT_JUDGED, NOT_HELD]) == NOT_HELD


def test_metrics_that_bear_the_article_out_hold_every_claim():
    assert verdicts() == [HELD] * 6


def layers(p, model):
    return p["models"][model]["layers"]


@pytest.mark.parametrize("change, flipped", [
    (lambda p, s: layers(p, "benchmark")["conv2d_1"].update(measures(input_corr=0.6)), {0: NOT_HELD}),
    (lambda p, s: layers(p, "benchmark")["conv2d_1"].update(measures(input_corr=0.405)), {0: INCONCLUSIVE}),
    (lambda p, s: layers(p, "benchmark")["dense_1"].update(measures(zero_fraction=0.6)), {1: NOT_HELD}),
    (lambda p, s: layers(p, "benchmark")["dense_1"].update(measures(mean=0.059)), {1: INCONCLUSIVE, 4: INCONCLUSIVE}),
    (lambda p, s: layers(p, "benchmark")["dense_1"].update(measures(mean=0.09)), {1: NOT_HELD, 4: NOT_HELD}),
    (lambda p, s: layers(p, "dummy")["dense_1"].update(measures(entropy_scaled_bits=4.7)), {2: NOT_HELD}),
    (lambda p, s: s["frog"]["models"]["dummy"]["output"].update(predicted="frog"), {3: NOT_HELD}),
    (lambda p, s: s["frog"]["models"]["benchmark"]["output"].update(softmax_entropy_bits=2.5), {3: NOT_HELD}),
    (lambda p, s: layers(p, "dummy")["dense_1"].update(measures(channel_corr=0.105)), {5: INCONCLUSIVE}),
])
def test_synthetic_metrics_flip_the_verdicts_they_bear_on_and_no_other(change, flipped):
    probe, subjects = copy.deepcopy(PROBE), copy.deepcopy(SUBJECTS)
    change(probe, subjects)
    assert verdicts(subjects, probe) == [flipped.get(i, HELD) for i in range(6)]


def test_the_single_image_claim_is_judged_per_subject_and_not_without_a_label():
    subjects = copy.deepcopy(SUBJECTS)
    subjects["cat"] = copy.deepcopy(SUBJECTS["frog"]) | {"label": "cat"}
    subjects["photo"] = copy.deepcopy(SUBJECTS["frog"]) | {"label": None}
    found = evaluate(subjects, judged(PROBE), "benchmark", "dummy")
    assert [v.verdict for v in found] == [HELD] * 3 + [HELD, NOT_HELD, NOT_JUDGED] + [HELD] * 2
    assert "On the cat" in found[4].claim and "cat: benchmark predicts frog (p_cat 0.800" in found[4].evidence[0]
    assert "photo: no label" in found[5].evidence[0]


def test_claims_find_layers_by_role_in_any_architecture():
    other = {"first_conv": "stem", "last_hidden": "pooled", "output": "probs"}
    probe = copy.deepcopy(PROBE)
    probe["models"]["dummy"] = model_probe(0.7, 0.06, 0.20, 0.4, 1.9, 0.54, 1.5, roles=other)
    found = evaluate(SUBJECTS, judged(probe), "benchmark", "dummy")
    assert [v.verdict for v in found] == [HELD] * 6
    assert found[1].evidence[0].startswith("last_hidden zero_fraction: benchmark 0.8")


def test_the_report_states_each_verdict_with_its_numbers():
    found = evaluate(SUBJECTS, judged(PROBE), "benchmark", "dummy")
    models = {"dummy": {"train_size": 100, "architecture": "reference"},
              "benchmark": {"train_size": 500, "architecture": "reference"}}
    runs = {m: [{"test_accuracy": 0.5, "epochs_run": 10}, {"test_accuracy": 0.6, "epochs_run": 12}] for m in models}
    text = markdown({"subjects": {"frog": "frog"}, "probe_size": 1000}, {"frog": {"split": "train", "index": 0}},
                    models, runs, SUBJECTS, judged(PROBE), found, "benchmark", "dummy", "analysis",
                    {"early_checkpoint": {}}, None)
    assert text.count("**HELD**") == 6
    assert ("dense_1 zero_fraction: benchmark 0.8 [0.79, 0.81] vs dummy 0.7 [0.69, 0.71]; "
            "benchmark − dummy 0.1 [0.085, 0.115] → held") in text
    assert "Provisional" not in text
    assert "| dummy | reference | 100 | 2 | 0.5500 ± 0.0707 | 11.0 | cat (0.300) | dense_1 |" in text
    assert "**frog** (train image 0, a frog)" in text
    assert "![frog: first conv layer's feature maps](analysis/subjects/frog/feature_maps_first_conv.png)" in text
    assert "Early checkpoint" not in text and "Over training" not in text  # no smaller model, no replay drawn


def test_with_one_seed_the_report_calls_its_verdicts_provisional():
    found = evaluate(SUBJECTS, judged(PROBE), "benchmark", "dummy")
    models = {"dummy": {"train_size": 100, "architecture": "reference"},
              "benchmark": {"train_size": 500, "architecture": "reference"}}
    runs = {m: [{"test_accuracy": 0.5, "epochs_run": 10}] for m in models}
    text = markdown({"subjects": {"frog": "frog"}, "probe_size": 1000}, {"frog": {"split": "train", "index": 0}},
                    models, runs, SUBJECTS, judged(PROBE), found, "benchmark", "dummy", "analysis",
                    {"early_checkpoint": {}}, None)
    assert "**Provisional:** one training seed" in text


def reliance_metrics(area_big, area_small, rho_big=(-0.1, -0.25, 0.1), rho_small=(0.0, -0.2, 0.2)):
    """metrics/reliance.json as lib.reliance writes it, for "benchmark" (big) and "dummy" (small)."""
    def model(area, rho):
        layer = {**measures(retained_area=area),
                 "selectivity_importance_spearman": rho[0], "selectivity_importance_spearman_low": rho[1],
                 "selectivity_importance_spearman_high": rho[2]}
        return {"roles": dict(ROLES), "layers": {"conv2d_1": dict(layer), "dense_1": dict(layer)}}

    models = {"benchmark": model(area_big, rho_big), "dummy": model(area_small, rho_small)}
    gap = minus(models["benchmark"]["layers"]["dense_1"], models["dummy"]["layers"]["dense_1"])
    return {"models": models, "pairs": {"benchmark_vs_dummy": {"difference": {"layers": {
        "conv2d_1": gap, "dense_1": gap}}}}}


@pytest.mark.parametrize("areas, verdict", [((0.70, 0.60), HELD), ((0.60, 0.70), NOT_HELD), ((0.65, 0.645), INCONCLUSIVE)])
def test_r1_holds_when_the_larger_model_keeps_more_of_its_accuracy_as_channels_go(areas, verdict):
    r1, _ = reliance_verdicts(reliance_metrics(*areas), "benchmark", "dummy")
    assert r1.claim.startswith("R1. The dummy model leans more") and r1.verdict == verdict
    assert len(r1.evidence) == 2 and "retained_area" in r1.evidence[0]


@pytest.mark.parametrize("rho, verdict", [((0.1, -0.1, 0.29), HELD), ((0.5, 0.31, 0.7), NOT_HELD),
                                          ((-0.5, -0.7, -0.35), NOT_HELD), ((-0.39, -0.57, -0.14), INCONCLUSIVE),
                                          ((0.3, 0.1, 0.5), INCONCLUSIVE), ((None, None, None), NOT_JUDGED)])
def test_r2_holds_only_when_every_correlation_lies_near_zero(rho, verdict):
    _, r2 = reliance_verdicts(reliance_metrics(0.7, 0.6, rho_small=rho), "benchmark", "dummy")
    assert r2.verdict == verdict and len(r2.evidence) == 4


@pytest.mark.parametrize("interval, verdict", [((-0.5, -0.7, -0.35), NOT_HELD), ((0.5, 0.35, 0.7), NOT_HELD),
                                               ((0.0, -0.2, 0.2), HELD), ((-0.2, -0.4, 0.0), INCONCLUSIVE),
                                               ((0.3, 0.2, 0.4), INCONCLUSIVE), ((0.0, -0.3, 0.1), INCONCLUSIVE)])
def test_a_strong_correlation_of_either_sign_is_a_prediction(interval, verdict):
    assert within(interval, 0.3) == verdict
