"""What zeroing one channel costs each class (lib.damage) and claim R3, on planted networks with known answers."""

import numpy as np
import pytest

from lib.cifar import CLASSES
from lib.claims import HELD, NOT_HELD, zhou_verdict
from lib.damage import damage_metrics, match_chance, merged, most_hurt, per_class, selective_class, shared_max
from lib.ablation import ablate_layer, ablation_orders
from lib.files import by_owner
from lib.reliance import reliance_metrics
from lib.stats import named_stream

K = len(CLASSES)
LABELS = np.repeat(np.arange(K), 40)
ROLES = {"first_conv": "layer", "last_hidden": "layer", "last_conv": "layer", "output": "out"}


class Readout:
    """An ablator over the numpy rest of a planted network: channel `carrier[c]` at position 0 is
    the evidence for class c; images without it fall to class c + 1 (`fallback`), so zeroing a
    carrier moves the images of its class, and no other class's, to a wrong one."""

    def __init__(self, values, carrier, fallback):
        self.values, self.carrier, self.fallback = values, carrier, fallback

    def rest(self, values):
        scores = values[:, 0][:, self.carrier] + self.fallback
        exp = np.exp(10 * (scores - scores.max(axis=1, keepdims=True)))
        return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)

    def masked(self, mask):
        return self.rest(self.values * mask)

    def projected(self, direction):
        return self.rest(self.values - (self.values @ direction)[..., None] * direction)


def planted(carrier, seed=0):
    """A run's layer of K channels over 4 positions: channel k is active at positions 1-3 for class k
    (more for a larger k: its selectivity grows with k) and at position 0 carries the evidence of
    the class c with carrier[c] = k for a share of that class's images that grows with k."""
    rng = np.random.default_rng(seed)
    values = np.zeros((len(LABELS), 4, K), np.float32)
    values[:, 1:, :] = 0.2 * rng.random((len(LABELS), 3, K))
    fallback = np.zeros((len(LABELS), K), np.float32)
    for c in range(K):
        k = carrier[c]
        values[LABELS == k, 1:, k] += 1 + 0.3 * k
        mine = np.flatnonzero(LABELS == c)
        carried = mine[:int(round(len(mine) * (0.3 + 0.07 * k)))]
        values[carried, 0, k] = 1
        fallback[np.setdiff1d(mine, carried), c] = 0.5
    fallback[np.arange(len(LABELS)), (LABELS + 1) % K] += 0.2
    found = ablate_layer(Readout(values, np.asarray(carrier), fallback), values, LABELS,
                         ablation_orders(K, 2, named_stream(0, seed, "layer")), np.eye(K))
    found["activity_initial"] = rng.random((len(LABELS), K))
    return by_owner({f"layer/{key}": value for key, value in found.items()})


def scored(outcomes, resamples=200):
    roles = {model: ROLES for model in outcomes}
    metrics, _, channels = reliance_metrics(outcomes, roles, LABELS, 2, resamples, 0)
    damage, rows, classes = damage_metrics(outcomes, roles, LABELS, resamples, 0)
    metrics, channels = merged(metrics, channels, damage, rows)
    return metrics, channels, classes


IDENTITY = np.arange(K)
SHIFTED = np.roll(IDENTITY, 1)  # class c's evidence on channel c - 1: each channel carries another class's


def test_zeroing_a_channel_that_carries_one_class_drops_that_class_alone():
    metrics, channels, classes = scored({"planted": {0: planted(IDENTITY)}})
    drops = np.array([[row["accuracy_drop"] for row in classes if row["channel"] == c] for c in range(K)])
    shares = 0.3 + 0.07 * np.arange(K)
    assert np.diag(drops) == pytest.approx(np.round(40 * shares) / 40)  # its class loses the images it carried
    assert (drops[~np.eye(K, dtype=bool)] == 0).all()  # no other class loses any
    assert [row["most_hurt"] for row in channels] == list(CLASSES)
    assert [row["selective_class"] for row in channels] == list(CLASSES)
    assert [row["hurt_match"] for row in channels] == [1] * K
    rises = np.array([[row["loss_rise"] for row in classes if row["channel"] == c] for c in range(K)])
    assert (np.diag(rises) > 0.5).all() and np.abs(rises[~np.eye(K, dtype=bool)]).max() < 1e-3
    layer = metrics["models"]["planted"]["layers"]["layer"]
    assert layer["hurt_matched"] == K and layer["hurt_matched_chance"] == pytest.approx(1)  # one in K by chance
    assert layer["hurt_match_over_chance"] == pytest.approx(0.9)
    assert layer["max_drop_spearman"] == pytest.approx(1)  # the more selective, the more its class loses


def test_r3_holds_on_the_planted_network_and_not_with_its_channels_permuted_against_their_classes():
    outcomes = {"benchmark": {s: planted(IDENTITY, s) for s in (0, 1)},
                "dummy": {s: planted(SHIFTED, s) for s in (0, 1)}}
    metrics, channels, _ = scored(outcomes)
    shifted = metrics["models"]["dummy"]["layers"]["layer"]
    assert shifted["hurt_matched"] == 0 and shifted["hurt_match_over_chance_high"] < 0
    assert [row["most_hurt"] for row in channels if row["model"] == "dummy" and row["seed"] == 0] == \
        [CLASSES[(k + 1) % K] for k in range(K)]  # channel k carries class k + 1's evidence
    verdict = zhou_verdict(metrics, "benchmark", "dummy")
    assert verdict.verdict == NOT_HELD
    assert any(line.startswith("benchmark layer: hurt match − chance 0.9 [0.9, 0.9] → held") for line in verdict.evidence)
    assert any(line.startswith("dummy layer: hurt match − chance -0.1") and "→ not held" in line for line in verdict.evidence)
    assert any("is the benchmark's reliance more class-specific?" in line and "→ held" in line for line in verdict.evidence)
    alone = {"benchmark": outcomes["benchmark"], "dummy": {s: planted(IDENTITY, s + 5) for s in (0, 1)}}
    assert zhou_verdict(scored(alone)[0], "benchmark", "dummy").verdict == HELD


def test_ties_on_accuracy_are_told_apart_by_the_loss_and_ties_left_are_shared():
    drops = np.array([[0.1, 0.1, 0.0], [0.0, 0.0, 0.0], [0.2, 0.1, 0.0]])
    rises = np.array([[0.3, 0.5, 0.9], [0.0, 0.0, 0.0], [0.1, 0.2, 0.3]])
    assert most_hurt(drops, rises).tolist() == [[0, 1, 0], [1 / 3, 1 / 3, 1 / 3], [1, 0, 0]]
    assert np.isnan(shared_max(np.array([[np.nan, np.nan]]))).all()  # undefined stays undefined


def test_the_selective_class_is_undefined_for_a_dead_channel_and_chance_counts_the_defined_channels():
    means = np.array([[[2.0, 0.0, 1.0], [1.0, 0.0, 1.0]]])  # (1, classes 2, channels 3): channel 1 dead
    selective = selective_class(means)
    assert selective[0, 0].tolist() == [1, 0] and np.isnan(selective[0, 1]).all() and selective[0, 2].tolist() == [0.5, 0.5]
    hurt = np.array([[[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]])
    # defined channels 0 and 2: H = (1, 1), S = (1.5, 0.5): (1 * 1.5 + 1 * 0.5) / 2² = 0.5
    assert match_chance(hurt, selective) == pytest.approx([0.5])


def test_per_class_means_weigh_the_images_drawn():
    labels = np.array([0, 0, 1, 1])
    cost = np.array([[1.0, 0.0, 0.0, 4.0]])
    found = per_class(cost, labels, np.array([[1, 1, 1, 1], [2, 0, 0, 1]]))
    assert found[0, 0, :2].tolist() == [0.5, 2.0] and found[1, 0, :2].tolist() == [1.0, 4.0]
    assert np.isnan(found[0, 0, 2])  # a class with no image


def test_a_layer_left_unablated_leaves_its_claims_unjudged_not_failed():
    from lib.claims import NOT_JUDGED, reliance_verdicts

    metrics, _, _ = scored({"benchmark": {0: planted(IDENTITY)}, "dummy": {0: planted(IDENTITY, 1)}}, resamples=50)
    del metrics["models"]["dummy"]["layers"]["layer"]
    metrics["models"]["dummy"]["skipped"] = {"layer": "layer: planted"}
    r1, r2 = reliance_verdicts(metrics, "benchmark", "dummy")
    assert r1.verdict == NOT_JUDGED and "dummy: its first conv layer was not ablated → not judged" in r2.evidence
    verdict = zhou_verdict(metrics, "benchmark", "dummy")
    assert verdict.verdict == NOT_JUDGED and "dummy: its last conv layer was not ablated → not judged" in verdict.evidence
