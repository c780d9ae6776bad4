"""Ablation curves, class selectivity and single-channel importance (lib.reliance), on known answers."""

import numpy as np
import pytest

from lib.cifar import CLASSES
from lib.ablation import ablate_layer, ablation_counts, ablation_orders, random_directions
from lib.files import by_owner
from lib.reliance import CHANCE, half_drop_share, reliance_metrics, retained_area, selectivity
from lib.stats import named_stream, ranks, spearman

N_CLASSES = len(CLASSES)


def one_hot(classes):
    probabilities = np.zeros((len(classes), N_CLASSES), np.float32)
    probabilities[np.arange(len(classes)), classes] = 1
    return probabilities


class Planted:
    """An ablator (lib.ablation.Ablator's interface) over a numpy `rest` of a network and its layer's `values`."""

    def __init__(self, rest, values):
        self.rest, self.values = rest, values

    def masked(self, mask):
        return self.rest(self.values * mask)

    def projected(self, direction):
        return self.rest(self.values - (self.values @ direction)[..., None] * direction)


def carried_by_channel_0(values):
    """The rest of a network in which channel 0 alone carries the class: its mean over positions is
    the label + 1; with it zeroed, every image is called class 0."""
    signal = values[..., 0].reshape(len(values), -1).mean(axis=1)
    return one_hot(np.where(signal > 0.5, np.rint(signal) - 1, 0).astype(int))


def layer_values(labels, channels=4, seed=0):
    rng = np.random.default_rng(seed)
    values = rng.random((len(labels), 2, 2, channels)).astype(np.float32)
    values[..., 0] = (labels + 1)[:, None, None]
    return values


LABELS = np.repeat(np.arange(N_CLASSES), 3)  # balanced: 10 % of the images are class 0


def test_the_curve_measures_every_count_so_its_area_is_the_mean_over_counts():
    assert ablation_counts(16) == list(range(17)) and ablation_counts(1) == [0, 1]
    counts = ablation_counts(16)
    curve = CHANCE + (1 - CHANCE) * np.clip(1 - np.array(counts) / 4, 0, 1)  # lost by the 4th channel of 16
    assert retained_area(counts, curve) == pytest.approx(0.125)  # a triangle of base 1/4
    sparse = [0, 1, 2, 4, 8, 16]  # the former grid: a mean over its points misses the same curve
    assert abs(retained_area(sparse, curve[sparse]) - 0.125) < 0.01
    late = CHANCE + (1 - CHANCE) * np.clip((12 - np.array(counts)) / 4, 0, 1)  # lost between 8 and 12 of 16
    assert retained_area(counts, late) == pytest.approx(0.625)
    assert abs(retained_area(sparse, late[sparse]) - 0.625) > 0.1


def test_a_channel_carrying_all_the_signal_drops_accuracy_to_chance_and_no_other_matters():
    orders = ablation_orders(4, 6, named_stream(0, 0, "conv"))
    values = layer_values(LABELS)
    found = ablate_layer(Planted(carried_by_channel_0, values), values, LABELS, orders, np.eye(4))
    assert found["counts"].tolist() == [0, 1, 2, 3, 4]
    assert found["single_correct"][0].mean() == pytest.approx(CHANCE)  # only the class-0 images stay right
    assert found["single_correct"][1:].all()
    assert np.array_equal(found["direction_correct"], found["single_correct"])  # a unit axis is a channel
    tilted = ablate_layer(Planted(carried_by_channel_0, values), values, LABELS, orders, np.full((1, 4), 0.5))
    assert 0 < tilted["direction_correct"].mean() < 1  # a direction across the channels takes part of the signal
    expected = [np.mean([CHANCE if 0 in order[:count] else 1.0 for order in orders]) for count in range(5)]
    assert found["correct"].mean(axis=1) == pytest.approx(expected)
    assert found["p_label"][0] == pytest.approx(1) and found["p_label"][-1].mean() == pytest.approx(CHANCE)
    curve = np.array(expected)
    kept = (curve - CHANCE) / (1 - CHANCE)  # the intact accuracy is 1
    shares = np.array([0, 0.25, 0.5, 0.75, 1])
    assert retained_area(found["counts"], curve) == pytest.approx(np.trapezoid(kept, shares))
    k = np.flatnonzero(kept <= 0.5)[0]
    by_hand = shares[k - 1] + (kept[k - 1] - 0.5) / (kept[k - 1] - kept[k]) * (shares[k] - shares[k - 1])
    assert half_drop_share(found["counts"], curve) == pytest.approx(by_hand)


def test_curve_summaries_of_a_hand_computed_curve():
    counts = [0, 1, 2, 4]
    curve = np.array([0.7, 0.7, 0.4, 0.1])  # retained: 1, 1, 0.5, 0
    assert retained_area(counts, curve) == pytest.approx(0.25 + 0.1875 + 0.125)
    assert half_drop_share(counts, curve) == pytest.approx(0.5)
    assert np.isnan(retained_area(counts, np.array([0.1, 0.1, 0.1, 0.1])))  # nothing above chance to lose
    assert np.isnan(half_drop_share(counts, np.array([0.05, 0.1, 0.1, 0.1])))


def test_selectivity_is_one_for_a_single_class_zero_for_all_alike_and_undefined_when_dead():
    labels = np.array([0, 0, 1, 1, 2, 2])
    activity = np.array([[1, 1, 0, 2, -1], [1, 1, 0, 2, -1], [0, 1, 0, 2, 1], [0, 1, 0, 2, 1], [0, 1, 0, 4, 1],
                         [0, 1, 0, 4, 1]], float)
    index = selectivity(activity, labels)
    assert index[0] == 1 and index[1] == 0
    assert np.isnan(index[2])  # dead: no activity at all
    assert index[3] == pytest.approx((4 - 2) / (4 + 2))  # μmax 4, μ−max mean(2, 2)
    assert np.isnan(index[4])  # a negative class mean: the index is defined for non-negative activity


def zeroed(model, layer, channel):
    """A copy of `model` with `layer`'s kernel and bias of `channel` zeroed."""
    import keras

    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    kernel, bias = copy.get_layer(layer).get_weights()
    kernel[..., channel], bias[channel] = 0, 0
    copy.get_layer(layer).set_weights([kernel, bias])
    return copy


def test_masked_values_through_the_rest_equal_zeroed_weights_and_inside_the_graph_too():
    keras = pytest.importorskip("keras")
    from lib.ablation import Ablator
    from lib.activations import layer_outputs
    from lib.model import reference

    keras.utils.set_random_seed(3)
    model = reference(channels=1)
    images = np.random.default_rng(1).random((40, 32, 32, 1), dtype=np.float32)
    stored = layer_outputs(model, images)
    for layer, channel in (("conv2d_3", 5), ("dense_1", 17)):
        mask = np.ones(stored[layer].shape[-1], np.float32)
        mask[channel] = 0
        ablator = Ablator(model, layer, stored[layer], images, batch=16)
        assert ablator.path == "stored"
        from_values = ablator.masked(mask)
        axis = np.eye(len(mask), dtype=np.float32)[channel]
        assert np.array_equal(ablator.projected(axis), from_values)  # projecting out a unit axis zeroes its channel
        direction = np.random.default_rng(2).standard_normal(len(mask)).astype(np.float32)
        direction /= np.linalg.norm(direction)
        values = stored[layer]
        by_hand = Ablator(model, layer, values - (values @ direction)[..., None] * direction).masked(np.ones_like(mask))
        assert np.allclose(ablator.projected(direction), by_hand, atol=1e-5)
        rerun = zeroed(model, layer, channel).predict(images, verbose=0)
        assert np.allclose(from_values, rerun, atol=1e-5), layer
        assert not np.allclose(from_values, model.predict(images, verbose=0), atol=1e-5), layer
        graph = Ablator(model, layer, None, images, batch=16, path="graph")  # the same change inside the whole graph
        assert graph.path == "graph"
        assert np.allclose(graph.masked(mask), from_values, atol=1e-5), layer
        assert np.allclose(graph.projected(direction), ablator.projected(direction), atol=1e-5), layer


def residual(channels=4):
    """A small residual network: `inner`, a convolution inside a block whose input skips around it."""
    import keras

    inputs = keras.Input((8, 8, 1))
    stem = keras.layers.Conv2D(channels, 3, padding="same", activation="relu", name="stem")(inputs)
    inner = keras.layers.Conv2D(channels, 3, padding="same", activation="relu", name="inner")(stem)
    joined = keras.layers.Add(name="joined")([stem, inner])
    pooled = keras.layers.GlobalAveragePooling2D(name="pooled")(joined)
    return keras.Model(inputs, keras.layers.Dense(N_CLASSES, activation="softmax", name="out")(pooled))


def test_a_convolution_inside_a_residual_block_is_ablated_inside_the_graph_as_zeroed_weights_are():
    keras = pytest.importorskip("keras")
    from lib.ablation import Ablator, Unablatable
    from lib.activations import layer_outputs

    keras.utils.set_random_seed(4)
    model = residual()
    images = np.random.default_rng(0).random((6, 8, 8, 1), dtype=np.float32)
    stored = layer_outputs(model, images)
    ablator = Ablator(model, "inner", stored["inner"], images, batch=4)
    assert ablator.path == "graph"  # the layers after it need the stem's output too
    mask = np.array([1, 0, 1, 1], np.float32)
    assert np.allclose(ablator.masked(mask), zeroed(model, "inner", 1).predict(images, verbose=0), atol=1e-6)
    assert np.allclose(ablator.masked(np.ones(4)), model.predict(images, verbose=0), atol=1e-6)
    stem = Ablator(model, "stem", stored["stem"], images, batch=4)
    assert stem.path == "stored"  # everything after the stem flows from its output alone
    assert np.allclose(stem.masked(mask), zeroed(model, "stem", 1).predict(images, verbose=0), atol=1e-6)
    with pytest.raises(Unablatable, match="inner: the layers after it need more than its output"):
        Ablator(model, "inner", stored["inner"])


def test_the_orders_are_seeded():
    def curve(seed):
        orders = ablation_orders(8, 3, named_stream(seed, 0, "conv2d_1"))
        values = layer_values(LABELS, 8)
        return orders, ablate_layer(Planted(carried_by_channel_0, values), values, LABELS, orders, np.eye(8))["correct"]

    (orders, first), (again, second) = curve(0), curve(0)
    assert np.array_equal(orders, again) and first.tobytes() == second.tobytes()
    assert not np.array_equal(curve(1)[0], orders)
    assert not np.array_equal(ablation_orders(8, 3, named_stream(0, 1, "conv2d_1")), orders)  # another run
    assert not np.array_equal(ablation_orders(8, 3, named_stream(0, 0, "conv2d_2")), orders)  # another layer


def test_spearman_with_ties_and_undefined_entries():
    assert ranks(np.array([3.0, 1, 3, 2])).tolist() == [3.5, 1, 3.5, 2]
    assert spearman(np.array([1.0, 2, 3, 4]), np.array([1.0, 4, 9, 16])) == pytest.approx(1)
    assert spearman(np.array([1.0, 2, 3, 4]), np.array([4.0, 3, 2, 1])) == pytest.approx(-1)
    assert spearman(np.array([1.0, np.nan, 3, 4, 5]), np.array([1.0, 0, 2, 3, 4])) == pytest.approx(1)
    assert np.isnan(spearman(np.array([1.0, 2, 3]), np.array([5.0, 5, 5])))  # a constant side


def run_outcomes(labels, carrier_channels, seed):
    """A run's ablation outcomes for a layer whose first `carrier_channels` channels each carry the class alone."""
    channels = 8
    values = layer_values(labels, channels, seed)
    values[..., :carrier_channels] = (labels + 1)[:, None, None, None]

    def evaluate(x):
        signal = x[..., :carrier_channels].reshape(len(x), -1).max(axis=1)
        return one_hot(np.clip(np.where(signal > 0.5, np.rint(signal) - 1, 0), 0, N_CLASSES - 1).astype(int))

    orders = ablation_orders(channels, 4, named_stream(0, seed, "layer"))
    directions = random_directions(channels, channels, named_stream(0, seed, "layer directions"))
    found = ablate_layer(Planted(evaluate, values), values, labels, orders, directions)
    found["activity_initial"] = np.random.default_rng(seed).random((len(labels), channels))
    return {f"layer/{key}": value for key, value in found.items()}


def test_a_model_leaning_on_one_channel_has_the_smaller_area_and_the_pair_says_so():
    labels = np.repeat(np.arange(N_CLASSES), 10)
    outcomes = {"fragile": {s: by_owner(run_outcomes(labels, 1, s)) for s in (0, 1)},
                "robust": {s: by_owner(run_outcomes(labels, 4, s)) for s in (0, 1)}}
    roles = {model: {"first_conv": "layer", "last_hidden": "layer", "output": "out"} for model in outcomes}
    metrics, curves, channels = reliance_metrics(outcomes, roles, labels, 4, 200, 0)
    fragile, robust = (metrics["models"][m]["layers"]["layer"] for m in ("fragile", "robust"))
    assert fragile["retained_area"] < robust["retained_area"]
    assert fragile["intact_accuracy"] == 1 and fragile["top_importance"] == pytest.approx(1 - CHANCE)
    assert robust["top_importance"] == 0  # any one carrier is enough
    for summary in (fragile, robust):
        assert summary["retained_area_low"] <= summary["retained_area"] <= summary["retained_area_high"]
    difference = metrics["pairs"]["fragile_vs_robust"]["difference"]["layers"]["layer"]
    assert difference["retained_area"] == pytest.approx(fragile["retained_area"] - robust["retained_area"], abs=1e-6)
    assert difference["retained_area_high"] < 0
    assert {row["model"] for row in curves} == {"fragile", "robust"} and len(channels) == 2 * 2 * 8
    assert metrics["seeds"] == 2 and metrics["orders"] == 4


def test_selectivity_divides_by_the_mean_of_the_other_classes_not_the_second_largest():
    labels = np.array([0, 1, 2])
    activity = np.array([[1.0], [3.0], [8.0]])  # class means 1, 3, 8: μ−max = 2, not 3
    assert selectivity(activity, labels)[0] == pytest.approx((8 - 2) / (8 + 2))


def test_channel_activity_is_the_mean_over_positions_and_the_spearman_of_a_hand_example():
    from lib.ablation import channel_activity

    acts = np.zeros((2, 2, 2, 3), np.float32)
    acts[0, :, :, 0] = [[1, 2], [3, 6]]
    acts[1, 0, 0, 2] = 8
    assert channel_activity(acts).tolist() == [[3, 0, 0], [0, 0, 2]]
    x, y = np.array([1.0, 2, 3, 4, 5]), np.array([5.0, 6, 7, 8, 7])  # ranks 1 2 3 4 5 against 1 2 3.5 5 3.5
    assert spearman(x, y) == pytest.approx(np.corrcoef([1, 2, 3, 4, 5], [1, 2, 3.5, 5, 3.5])[0, 1])
    assert spearman(x, -x) == pytest.approx(-1) and np.isnan(spearman(x, np.ones(5)))


def test_the_r2_number_is_the_spearman_of_each_channels_selectivity_with_its_importance():
    labels = np.repeat(np.arange(N_CLASSES), 10)
    run = by_owner(run_outcomes(labels, 1, 0))
    metrics, _, rows = reliance_metrics({"m": {0: run}}, {"m": {"first_conv": "layer", "last_hidden": "layer"}},
                                        labels, 4, 100, 0)
    from lib.reliance import importance, intact

    selective = selectivity(run["layer"]["activity"], labels)
    important = importance(intact(run["layer"]), run["layer"]["single_correct"])
    assert [row["selectivity"] for row in rows] == pytest.approx(selective.tolist(), abs=1e-6)  # rounded
    found = metrics["models"]["m"]["layers"]["layer"]["selectivity_importance_spearman"]
    assert found == pytest.approx(spearman(selective, important), abs=1e-6)
    assert metrics["models"]["m"]["layers"]["layer"]["mean_selectivity_permuted"] < np.nanmean(selective)


def test_a_layer_that_cannot_be_changed_inside_the_network_is_skipped_and_said_not_a_failure(monkeypatch):
    keras = pytest.importorskip("keras")
    from lib import ablation
    from lib.activations import layer_outputs
    from lib.report import reliance_lines

    keras.utils.set_random_seed(5)
    model = residual()
    images = np.random.default_rng(0).random((20, 8, 8, 1), dtype=np.float32)
    labels = np.arange(20) % N_CLASSES
    roles = {"first_conv": "stem", "last_hidden": "pooled", "output": "out"}

    def refused(model, layer, reading=None):
        raise ablation.Unablatable(f"{layer}: the network cannot be rebuilt with its output changed (planted)")

    monkeypatch.setattr(ablation, "in_graph", refused)
    said = []
    arrays, card = ablation.ablate_run(model, model, roles, layer_outputs(model, images), images, labels,
                                       {"orders": 2, "seed": 0}, 0, said.append)
    assert card["skipped"] == {"inner": "inner: the network cannot be rebuilt with its output changed (planted)"}
    assert set(card["layers"]) == {"stem", "pooled"} and card["roles"]["last_conv"] == "inner"
    assert "inner/correct" not in arrays and arrays["stem/single_correct"].shape == (4, 20)
    assert any(line.endswith("; skipped") for line in said)
    outcomes = {"resnet": {0: by_owner(arrays)}}
    metrics, _, _ = reliance_metrics(outcomes, {"resnet": card["roles"]}, labels, 2, 20, 0)
    metrics["models"]["resnet"]["skipped"] = card["skipped"]
    assert "- Not ablated: resnet inner: inner: the network cannot be rebuilt" in "\n".join(reliance_lines(metrics))
