"""What a channel responds to: receptive fields, dataset examples and class specificity
(lib.channels), feature visualization (lib.features) and attributions (lib.attribution), on known answers."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from lib.attribution import explain, grad_cam, integrated_gradients, logits, sanity_check
from lib.channels import (chance_specificity, class_tally, constant, layer_examples, ranking, resampled_specificity,
                          specificity, specificity_metrics, split_peaks, tied)
from lib.fields import Field, box, receptive_field
from lib.cifar import CLASSES
from lib.features import visualize
from lib.model import ARCHITECTURES, last_convolution
from lib.training import deterministic

EDGE = np.array([[-1, 0, 1]] * 3, np.float32)  # a vertical edge: dark on the left, bright on the right
SETTINGS = {"objective": "centre", "steps": 256, "learning_rate": 0.05, "decay": 0.01, "jitter": 0, "seed": 0}


@pytest.fixture(autouse=True)
def seeded():
    deterministic(0)


def planted(activation="relu", channels=4):
    """A network whose first convolution's channel 0 is the vertical edge detector and whose other
    channels are zero."""
    inputs = keras.Input((32, 32, 1))
    x = layers.Conv2D(channels, 3, padding="same", activation=activation, name="conv")(inputs)
    x = layers.Flatten()(x)
    model = keras.Model(inputs, layers.Dense(len(CLASSES), activation="softmax", name="out")(x))
    kernel = np.zeros((3, 3, 1, channels), np.float32)
    kernel[:, :, 0, 0] = EDGE
    model.get_layer("conv").set_weights([kernel, np.zeros(channels, np.float32)])
    return model


def edge_response(images):
    """The edge filter's response at every position (zero padding, as `same`), with numpy alone."""
    padded = np.pad(images[..., 0], ((0, 0), (1, 1), (1, 1)))
    side = images.shape[1]
    return sum(EDGE[dy, dx] * padded[:, dy:dy + side, dx:dx + side] for dy in range(3) for dx in range(3))


def test_the_reference_networks_fields_follow_its_layers():
    model = ARCHITECTURES["reference"].build(1)
    sizes = {layer: receptive_field(model, layer).size[0] for layer in
             ("conv2d_1", "conv2d_2", "pool_1", "conv2d_3", "conv2d_4", "pool_2", "conv2d_5", "conv2d_6", "dense_1")}
    assert sizes == {"conv2d_1": 3, "conv2d_2": 5, "pool_1": 6, "conv2d_3": 10, "conv2d_4": 14, "pool_2": 16,
                     "conv2d_5": 24, "conv2d_6": 32, "dense_1": 32}  # 3x3 adds 2 jumps, a 2x2 pool 1 and doubles the jump
    assert receptive_field(model, "conv2d_3") == Field((10, 10), (2, 2), (0.5, 0.5))
    assert receptive_field(model, "flatten_1") is None and box(None, 3, 4) == (0, 0, 32, 32)


def test_a_layer_above_a_branch_has_no_field_and_sees_the_whole_image():
    inputs = keras.Input((32, 32, 1))
    stem = layers.Conv2D(4, 3, padding="same", name="stem")(inputs)
    merged = layers.Add(name="merged")([stem, layers.Conv2D(4, 5, padding="same", name="side")(stem)])
    model = keras.Model(inputs, layers.Conv2D(2, 3, padding="same", name="top")(merged))
    assert receptive_field(model, "stem").size == (3, 3)
    assert receptive_field(model, "top") is None and box(receptive_field(model, "top"), 5, 5) == (0, 0, 32, 32)


def test_every_field_is_where_the_units_gradient_reaches_in_the_input():
    """Strides, dilation, valid and same padding, pooling, zero padding: the input pixels with a
    gradient for one unit are its box, computed independently by differentiation (within it, where
    the box is clipped at the image's edge: part of it then lies in padding)."""
    inputs = keras.Input((32, 32, 1))
    x = layers.Conv2D(3, 5, strides=2, padding="same", name="a")(inputs)
    x = layers.AveragePooling2D(2, name="b")(x)
    x = layers.ZeroPadding2D(1, name="c")(x)
    x = layers.Conv2D(2, 3, dilation_rate=2, padding="valid", name="d")(x)
    x = layers.Dense(4, name="e")(x)
    model = keras.Model(inputs, x)
    exact = 0
    for layer in ("a", "b", "d", "e"):
        reader = keras.Model(inputs, model.get_layer(layer).output)
        field = receptive_field(model, layer)
        rows, cols = reader.output.shape[1:3]
        for row, col in {(0, 0), (rows // 2, cols // 2), (rows - 1, cols - 1)}:
            image = tf.constant(np.random.default_rng(1).random((1, 32, 32, 1)), tf.float32)
            with tf.GradientTape() as tape:
                tape.watch(image)
                unit = reader(image)[0, row, col, 0]
            reached = np.argwhere(np.abs(tape.gradient(unit, image).numpy()[0, ..., 0]) > 0)
            top, left, bottom, right = box(field, row, col)
            low, high = reached.min(axis=0).tolist(), (reached.max(axis=0) + 1).tolist()
            centre = np.array(field.start) + np.array([row, col]) * field.jump
            if ((centre - (np.array(field.size) - 1) / 2 >= 0) & (centre + (np.array(field.size) - 1) / 2 < 32)).all():
                assert (low, high) == ([top, left], [bottom, right]), (layer, row, col)
                exact += 1
            else:
                assert [top, left] <= low and high <= [bottom, right], (layer, row, col)
    assert exact >= 4


def test_a_planted_detectors_top_images_are_those_with_the_largest_response_and_its_crop_is_where_that_is():
    model = planted()
    rng = np.random.default_rng(0)
    images = rng.random((300, 32, 32, 1)).astype(np.float32)
    labels = rng.integers(0, len(CLASSES), 300)
    found = split_peaks(lambda x: {"conv": keras.Model(model.inputs, model.get_layer("conv").output)(x).numpy()},
                        images, chunk=128)
    entry = layer_examples(*found["conv"], (32, 32, 4), receptive_field(model, "conv"), labels,
                           np.arange(1000, 1300), 9, 100)
    response = np.maximum(edge_response(images), 0)
    best = np.argsort(-response.reshape(300, -1).max(axis=1), kind="stable")[:9]
    assert entry["index"][0].tolist() == (1000 + best).tolist()
    assert entry["value"][0] == pytest.approx(response.reshape(300, -1).max(axis=1)[best], rel=1e-5)
    for rank, image in enumerate(best):
        row, col = np.unravel_index(response[image].argmax(), (32, 32))
        assert entry["position"][0, rank].tolist() == [row, col]
        top, left, bottom, right = entry["box"][0, rank]
        assert (top, left, bottom, right) == (max(row - 1, 0), max(col - 1, 0), min(row + 2, 32), min(col + 2, 32))
    assert entry["constant"].tolist() == [False, True, True, True]  # the zero channels give 0 everywhere
    assert entry["tally"][0].sum() == 100 and entry["tally"][0].tolist() == \
        np.bincount(labels[np.argsort(-response.reshape(300, -1).max(axis=1), kind="stable")[:100]], minlength=10).tolist()


def test_the_shown_images_break_ties_by_index_and_the_tally_shares_the_tied_places():
    peak = np.array([[1.0, 0], [3, 0], [3, 0], [2, 0]])
    assert ranking(peak)[0].tolist() == [1, 2, 3, 0]
    assert constant(peak).tolist() == [False, True]
    tally = class_tally(peak, np.array([4, 4, 4, 7]), 3)
    assert tally[0, 4] == 2 and tally[0, 7] == 1
    share = specificity(tally, constant(peak))
    assert share[0] == pytest.approx(2 / 3) and np.isnan(share[1])
    tally = class_tally(peak, np.array([4, 5, 6, 7]), 1)  # images 1 and 2 tie for the one place
    assert tally[0].tolist() == [0, 0, 0, 0, 0, 0.5, 0.5, 0, 0, 0] and tied(peak, 1).tolist() == [2, 4]


def test_a_channel_whose_top_places_tie_gives_the_same_tally_whatever_the_image_order():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 100)
    peak = np.where(rng.random((1000, 3)) < 0.3, 1.0, rng.random((1000, 3)) * 0.5)  # ~300 saturated images tie
    peak[labels == 2, 2] = 2.0  # channel 2's top 100 are class 2, no tie at its last place
    shuffle = rng.permutation(1000)
    tally, shuffled = class_tally(peak, labels, 100), class_tally(peak[shuffle], labels[shuffle], 100)
    assert tally == pytest.approx(shuffled) and tally.sum(axis=1) == pytest.approx([100] * 3)
    assert (tied(peak, 100)[:2] > 250).all() and tied(peak, 100)[2] == 100
    draws = np.random.default_rng(1).multinomial(1000, np.ones(1000) / 1000, size=50)
    resampled = resampled_specificity(peak, ranking(peak), labels, 100, draws)
    again = resampled_specificity(peak[shuffle], ranking(peak[shuffle]), labels[shuffle], 100, draws[:, shuffle])
    assert resampled == pytest.approx(again)
    enough = draws[:, labels == 2].sum(axis=1) >= 100  # a resample with 100 class-2 draws has them all on top
    assert enough.any() and resampled[enough, 2] == pytest.approx(1.0) and (resampled[~enough, 2] < 1).all()


def test_the_chance_level_of_a_top_100_share_of_ten_balanced_classes_is_about_0_15():
    labels = np.repeat(np.arange(10), 1000)
    mean, p95 = chance_specificity(labels, 100, 4000, np.random.default_rng(0))
    assert mean == pytest.approx(0.152, abs=0.005) and p95 == pytest.approx(0.18, abs=0.011)
    assert chance_specificity(np.zeros(50, int), 10, 10, np.random.default_rng(0)) == (1.0, 1.0)


def test_a_channel_blind_to_class_comes_out_at_the_chance_level():
    rng = np.random.default_rng(3)
    labels = rng.permutation(np.repeat(np.arange(10), 200))
    peak = rng.random((2000, 64))
    roles = {"first_conv": "conv", "last_hidden": "conv"}
    metrics = specificity_metrics({"a": {0: {"conv": peak}}}, {"a": {0: {"conv": rng.random((2000, 64))}}},
                                  {"a": roles}, labels, 100, 100, 0)
    found = metrics["models"]["a"]["layers"]["conv"]
    chance = metrics["chance"]["class_specificity"]
    assert found["class_specificity"] == pytest.approx(chance, abs=0.01)
    assert abs(found["class_specificity_over_chance"]) < 0.01 and abs(found["class_specificity_over_initial"]) < 0.015


def test_specificity_is_one_for_a_channel_of_one_class_and_resampling_once_each_changes_nothing():
    labels = np.repeat(np.arange(10), 20)
    peak = np.stack([(labels == 3) + np.linspace(0, 0.1, 200), np.linspace(0, 1, 200)], axis=1)
    order = ranking(peak)
    exact = specificity(class_tally(peak, labels, 20), constant(peak))
    assert exact[0] == 1 and exact[1] == 1  # the last 20 images are all class 9
    assert resampled_specificity(peak, order, labels, 20, np.ones((2, 200), int)) == pytest.approx(np.stack([exact] * 2))
    draws = np.zeros((1, 200), int)
    draws[0, labels == 3] = 1
    draws[0, 0] = 10  # a class-0 image drawn ten times counts ten times, below the class-3 images
    assert resampled_specificity(peak[:, :1], order[:1], labels, 20, draws)[0, 0] == pytest.approx(1.0)
    draws[0, 60] = 0  # one class-3 image not drawn: the ten copies of image 0 fill the 20th place
    assert resampled_specificity(peak[:, :1], order[:1], labels, 20, draws)[0, 0] == pytest.approx(19 / 20)


def test_a_model_with_class_specific_channels_is_more_specific_than_one_without_with_an_interval():
    labels = np.repeat(np.arange(10), 100)
    rng = np.random.default_rng(0)
    specific = {s: {"conv": np.stack([(labels == c) + rng.random(1000) * 0.5 for c in range(4)], axis=1)}
                for s in (0, 1)}
    spread_out = {s: {"conv": rng.random((1000, 4))} for s in (0, 1)}
    untrained = {s: {"conv": rng.random((1000, 4))} for s in (0, 1)}
    roles = {"first_conv": "conv", "last_hidden": "conv"}
    metrics = specificity_metrics({"a": specific, "b": spread_out}, {"a": untrained, "b": untrained},
                                  {"a": roles, "b": roles}, labels, 100, 200, 0)
    a, b = (metrics["models"][m]["layers"]["conv"] for m in ("a", "b"))
    assert a["class_specificity"] == 1 and b["class_specificity"] < 0.3
    assert a["class_specificity_low"] <= 1 <= a["class_specificity_high"]
    assert a["class_specificity_over_initial"] == pytest.approx(1 - a["class_specificity_initial"])
    assert a["class_specificity_over_initial_low"] > 0.6 and b["class_specificity_over_initial_low"] < 0
    difference = metrics["pairs"]["a_vs_b"]["difference"]["layers"]["conv"]
    assert difference["class_specificity_low"] > 0.5 and difference["class_specificity_over_initial_low"] > 0.5


def test_a_linear_channels_visualization_is_its_filter_and_a_zero_channel_is_constant_not_noise():
    images, reached, still, box = visualize(planted(activation=None), ["conv"], SETTINGS)["conv"]
    window = images[0, 15:18, 15:18, 0]  # the centre position's receptive field
    assert box == (15, 15, 18, 18)
    assert np.corrcoef(window.ravel(), EDGE.ravel())[0, 1] > 0.9
    assert still.tolist() == [False, True, True, True] and np.isnan(images[1:]).all() and reached[0] > 1.5
    assert np.isfinite(images[0]).all() and 0 <= images[0].min() and images[0].max() <= 1


def test_the_mean_objective_rewards_a_detectors_sum_over_the_picture():
    model = planted(activation=None)
    kernel, bias = model.get_layer("conv").get_weights()
    kernel[:, :, 0, 0] = 1 / 9  # a blur: its mean over positions grows with every pixel
    model.get_layer("conv").set_weights([kernel, bias])
    images, _, _, box = visualize(model, ["conv"], {**SETTINGS, "objective": "mean"})["conv"]
    assert box == (0, 0, 32, 32)
    inside = images[0, 4:28, 4:28]
    assert inside.min() > 0.9  # every pixel towards white


@pytest.mark.parametrize("jitter", [0, 1])
def test_pixels_a_detector_cannot_see_stay_grey(jitter):
    """The planted 3x3 detector at the centre sees rows and columns 15-17 (and, shifted by the
    jitter, one more on each side): every other pixel stays grey."""
    settings = {**SETTINGS, "jitter": jitter}
    images, _, _, box = visualize(planted(activation="relu"), ["conv"], settings)["conv"]
    seen = np.zeros((32, 32), bool)
    seen[15 - jitter:18 + jitter, 15 - jitter:18 + jitter] = True
    assert box == (15 - jitter, 15 - jitter, 18 + jitter, 18 + jitter)
    assert np.abs(images[0, ..., 0][~seen] - 0.5).max() < 0.05
    assert np.ptp(images[0, 15:18, 15:18, 0]) > 0.5  # the field itself is drawn: dark left, bright right


def test_visualizations_are_the_same_bit_for_bit_with_the_seed_and_differ_with_another():
    model = planted(activation="relu")
    settings = {**SETTINGS, "steps": 20, "jitter": 2}
    first, second = (visualize(model, ["conv", "out"], settings) for _ in range(2))
    for layer in ("conv", "out"):
        assert np.array_equal(first[layer][0], second[layer][0], equal_nan=True)
    other = visualize(model, ["out"], {**settings, "seed": 1})
    assert not np.array_equal(first["out"][0], other["out"][0])


def small_network(seed):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((32, 32, 1))
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv_a")(inputs)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv_b")(x)
    x = layers.Flatten()(x)
    return keras.Model(inputs, layers.Dense(len(CLASSES), activation="softmax", name="out")(x))


def with_biases(model, seed=5):
    """`model` with every bias set to random non-zero values: no longer positively homogeneous."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if getattr(layer, "bias", None) is not None:
            kernel, bias = layer.get_weights()
            layer.set_weights([kernel, rng.normal(0.3, 0.2, bias.shape).astype(np.float32)])
    return model


def test_integrated_gradients_refine_the_path_until_complete_where_gradient_times_input_is_not():
    model = with_biases(small_network(0))
    image = np.random.default_rng(0).random((32, 32, 1)).astype(np.float32)
    found, facts = integrated_gradients(logits(model), image, 3, 4, tolerance=0.01, max_steps=4096)
    scores = logits(model)(np.stack([np.zeros_like(image), image]))[:, 3].numpy()
    change = scores[1] - scores[0]
    assert found.shape == (32, 32) and facts["complete"] and facts["completeness_gap"] <= 0.01
    assert facts["steps"] > 4 and abs(found.sum() - change) <= 0.01 * abs(change)
    assert facts["completeness_gap_absolute"] == pytest.approx(abs(found.sum() - change), rel=1e-3, abs=1e-6)
    with tf.GradientTape() as tape:
        x = tf.constant(image[None])
        tape.watch(x)
        score = logits(model)(x)[0, 3]
    times_input = (tape.gradient(score, x).numpy()[0] * image).sum()
    assert abs(times_input - change) > 0.05 * abs(change)  # gradient x input misses the biases' share
    _, capped = integrated_gradients(logits(model), image, 3, 2, tolerance=1e-9, max_steps=8)
    assert capped["steps"] == 8 and capped["complete"] is False


def test_grad_cam_of_a_flatten_head_averages_the_gradient_over_positions():
    """conv -> Flatten -> Dense: the gradient at each position is that position's weight, so the
    channel's weight is their mean (a mutant using the gradient at each position differs)."""
    inputs = keras.Input((4, 4, 1))
    maps = layers.Conv2D(2, 1, activation="relu", name="conv")(inputs)
    model = keras.Model(inputs, layers.Dense(2, activation="softmax", name="out")(layers.Flatten()(maps)))
    model.get_layer("conv").set_weights([np.array([[[[1.0, 2.0]]]], np.float32), np.zeros(2, np.float32)])
    dense = np.zeros((32, 2), np.float32)
    dense[0::2, 1] = np.arange(16)  # channel 0's weight at position p is p; channel 1's is 0
    dense[1::2, 1] = -1
    model.get_layer("out").set_weights([dense, np.zeros(2, np.float32)])
    image = np.linspace(0, 1, 16, dtype=np.float32).reshape(4, 4, 1)
    alpha = np.array([np.arange(16).mean(), -1.0])
    by_hand = np.maximum(image[..., 0] * alpha[0] + 2 * image[..., 0] * alpha[1], 0)
    assert grad_cam(model, "conv", image, 1) == pytest.approx(by_hand, abs=1e-5)


def test_grad_cam_of_a_network_ending_in_average_pooling_is_its_class_activation_map():
    """With global average pooling before the output, Grad-CAM is CAM (Zhou et al. 2016): the
    class's weights times the last convolution's maps, rectified, over the positions' count."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((32, 32, 1))
    maps = layers.Conv2D(6, 3, padding="same", activation="relu", name="conv")(inputs)
    x = layers.GlobalAveragePooling2D()(maps)
    model = keras.Model(inputs, layers.Dense(len(CLASSES), activation="softmax", name="out")(x))
    image = np.random.default_rng(1).random((32, 32, 1)).astype(np.float32)
    activations = keras.Model(inputs, maps)(image[None]).numpy()[0]
    weights = model.get_layer("out").get_weights()[0][:, 2]
    cam = np.maximum(activations @ weights, 0) / (32 * 32)
    assert last_convolution(model) == "conv"
    assert grad_cam(model, "conv", image, 2) == pytest.approx(cam, abs=1e-6)


def edges(model, image, target, context):
    """A mutant attribution: the picture's edges, whatever the weights."""
    gray = image[..., 0]
    return np.hypot(np.gradient(gray, axis=0), np.gradient(gray, axis=1)).astype(np.float32), {}


def test_the_cascade_flags_a_map_that_ignores_the_weights_and_passes_one_that_does_not():
    trained, untrained, other = small_network(0), small_network(1), small_network(2)
    image = np.random.default_rng(2).random((32, 32, 1)).astype(np.float32)
    context = {"layer": "conv_b", "steps": 64}
    from lib.attribution import METHODS, weighted_layers

    _, _, facts = explain(trained, untrained, other, image, 4, context, {**METHODS, "edges": edges})
    assert facts["edges"]["rank_correlation"] == {"signed": 1, "absolute": 1} and facts["edges"]["passes"] is False
    assert [step["layer"] for step in facts["integrated_gradients"]["cascade"]] == ["out", "conv_b", "conv_a"]
    assert weighted_layers(trained) == ["out", "conv_b", "conv_a"]
    for method in METHODS:
        found = facts[method]
        assert found["cascade"][-1]["signed"] == found["rank_correlation"]["signed"], method
        assert found["passes"] is True, (method, found)
        assert found["threshold"]["absolute"] == pytest.approx((1 + found["baseline"]["absolute"]) / 2)
    assert facts["grad_cam"]["layer"] == "conv_b" and facts["integrated_gradients"]["completeness_gap"] < 0.05
    paths = []

    def recording(model, image, target, context):
        paths.append((context["steps"], context.get("max_steps")))
        return METHODS["integrated_gradients"](model, image, target, context)

    _, _, found = explain(trained, untrained, other, image, 4, {**context, "steps": 2, "tolerance": 0.001,
                                                                 "max_steps": 4096}, {"ig": recording})
    steps = found["ig"]["steps"]
    assert steps > 2 and paths == [(2, 4096)] + [(steps, steps)] * 4  # the cascade (3 layers) and the baseline


def test_a_picture_shared_by_unrelated_networks_sets_the_bar_and_a_constant_map_is_undefined():
    """Two unrelated networks' |IG| agree on a high-contrast picture (it is in both): the bar is
    that agreement, not a fixed number."""
    image = np.zeros((32, 32, 1), np.float32)
    image[:, 16:] = 1  # half black, half white: |IG| is zero on the black half for any network
    maps = [integrated_gradients(logits(with_biases(small_network(s), s)), image, 0, 64)[0] for s in (0, 1, 2)]
    rho = sanity_check(maps[0], maps[1], (maps[1], maps[2]))
    assert rho["baseline"]["absolute"] > 0.5 and rho["rank_correlation"]["absolute"] > 0.5  # the picture, in all
    assert rho["passes"] is True  # the trained map agrees with a random one no more than random ones do
    cam = np.zeros((32, 32), np.float32)
    cam[10:20, 5:9] = 1
    assert sanity_check(cam, np.zeros_like(cam), (np.zeros_like(cam), cam))["passes"] is None  # never "passed"
    assert sanity_check(np.zeros_like(cam), cam, (cam, cam))["passes"] is None


def test_an_imported_networks_untrained_twin_is_drawn_from_its_own_initialisers():
    from lib.checkpoints import reinitialised

    model = small_network(0)
    twin, again = reinitialised(model, 7), reinitialised(model, 7)
    kernel = model.get_layer("conv_a").get_weights()[0]
    assert not np.array_equal(twin.get_layer("conv_a").get_weights()[0], kernel)
    assert np.array_equal(twin.get_layer("conv_a").get_weights()[0], again.get_layer("conv_a").get_weights()[0])
    assert np.abs(twin.get_layer("conv_b").get_weights()[1]).max() == 0  # biases start at zero, as Keras draws them


def test_the_sanity_summary_counts_flagged_undefined_and_incomplete_maps_beside_the_baselines():
    from lib.attribution import sanity_summary

    def facts(passes, rho, base, **more):
        return {"passes": passes, "rank_correlation": {"signed": rho, "absolute": rho},
                "baseline": {"signed": base, "absolute": base}, **more}

    cards = [{"subjects": {"frog": {"methods": {
        "integrated_gradients": facts(True, 0.2, 0.4, completeness_gap=0.004, complete=True),
        "grad_cam": facts(None, None, 0.1)}}}},
        {"subjects": {"frog": {"methods": {
            "integrated_gradients": facts(False, 0.9, 0.5, completeness_gap=0.03, complete=False),
            "grad_cam": facts(True, 0.1, 0.3)}}}}]
    found = sanity_summary(cards)
    ig, cam = found["integrated_gradients"], found["grad_cam"]
    assert (ig["maps"], ig["checked"], ig["flagged"], ig["undefined"], ig["incomplete"]) == (2, 2, 1, 0, 1)
    assert ig["mean_rank_correlation_signed"] == pytest.approx(0.55) and ig["mean_baseline_absolute"] == pytest.approx(0.45)
    assert ig["largest_completeness_gap"] == 0.03
    assert (cam["checked"], cam["undefined"], cam["mean_rank_correlation_absolute"]) == (1, 1, 0.1)
    assert "largest_completeness_gap" not in cam
