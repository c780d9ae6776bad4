"""What builds a channel (lib.circuits): its inputs from the layer below, on planted networks."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from lib.circuits import layer_below  # noqa: E402
from lib.examples import run_examples  # noqa: E402

SETTINGS = {"top": 4, "tally": 8}


def planted():
    """Two convolutions with a pooling between: channel 3 of `two` is built from channel 5 of `one`
    (weight 1 at every tap) less a little of channel 2 (weight -0.1); its other channels read all."""
    inputs = keras.Input((8, 8, 1))
    one = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="one")(inputs)
    pooled = keras.layers.MaxPooling2D(2, name="pool")(one)
    two = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="two")(pooled)
    flat = keras.layers.Flatten(name="flat")(two)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax", name="out")(flat))
    kernel, bias = model.get_layer("two").get_weights()
    kernel[..., 3] = 0
    kernel[:, :, 5, 3], kernel[:, :, 2, 3] = 1.0, -0.1
    bias[:] = 0.05
    model.get_layer("two").set_weights([kernel, bias])
    return model


def test_a_channel_built_from_one_channel_below_names_it_first_and_its_inputs_sum_to_its_value():
    keras.utils.set_random_seed(0)
    model = planted()
    images = np.random.default_rng(0).random((30, 8, 8, 1), dtype=np.float32)
    labels, indices = np.arange(30) % 10, np.arange(100, 130)
    arrays, card = run_examples(model, model, ["one", "two"], images, labels, indices, SETTINGS)
    assert card["one"]["below"] is None and "one/inputs" not in arrays
    assert card["two"]["below"] == "one"
    inputs = arrays["two/inputs"]
    assert inputs.shape == (4, 8)
    assert np.argmax(inputs[3]) == 5 and inputs[3, 5] > 0 and np.argmin(inputs[3]) == 2 and inputs[3, 2] < 0
    assert np.count_nonzero(inputs[3]) == 2  # nothing from the channels it has no weight on
    by_hand = np.asarray(keras.Model(model.inputs, model.get_layer("pool").output).predict(images, verbose=0))
    kernel = model.get_layer("two").get_weights()[0]
    rows = {index: row for row, index in enumerate(indices)}
    checked = []
    for channel in range(4):
        values = arrays["two/value"][channel]
        if values.min() <= 0:
            continue  # a ReLU at zero passes no gradient
        assert inputs[channel].sum() + 0.05 == pytest.approx(values.mean(), rel=1e-4)  # the inputs and the bias
        expected = np.zeros(8)
        for index, (row, col) in zip(arrays["two/index"][channel], arrays["two/position"][channel]):
            padded = np.pad(by_hand[rows[index]], ((1, 1), (1, 1), (0, 0)))
            expected += np.einsum("hwi,hwi->i", padded[row:row + 3, col:col + 3], kernel[..., channel])
        assert inputs[channel] == pytest.approx(expected / len(values), abs=1e-4)  # weight × activation
        checked.append(channel)
    assert 3 in checked


def test_the_layer_below_is_the_nearest_ancestor_with_channels_across_a_skip_connection():
    from test_reliance import residual

    model = residual()
    assert layer_below(model, ["stem", "inner"], "inner") == "stem"
    assert layer_below(model, ["stem", "inner"], "stem") is None
    inputs = keras.Input((8, 8, 1))
    left = keras.layers.Conv2D(2, 3, name="left")(inputs)
    right = keras.layers.Conv2D(2, 3, name="right")(inputs)  # a branch beside, not below
    model = keras.Model(inputs, keras.layers.Add(name="both")([left, right]))
    assert layer_below(model, ["left", "right"], "right") is None
