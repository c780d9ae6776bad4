import numpy as np
import pytest

from lib.model import LAYERS, reference_cnn
from lib.training import model_inputs

SHAPES = {
    "conv2d_1": (32, 32, 16), "conv2d_2": (32, 32, 16), "pool_1": (16, 16, 16),
    "conv2d_3": (16, 16, 16), "conv2d_4": (16, 16, 16), "pool_2": (8, 8, 16),
    "conv2d_5": (8, 8, 16), "conv2d_6": (8, 8, 16), "dense_1": (8, 8, 64),
    "dropout_1": (8, 8, 64), "flatten_1": (4096,), "dense_2": (10,),
}
PARAMS = {"conv2d_1": 160, "conv2d_2": 2320, "conv2d_3": 2320, "conv2d_4": 2320, "conv2d_5": 2320,
          "conv2d_6": 2320, "dense_1": 1088, "dense_2": 40970}


def test_the_reference_architecture_layer_by_layer():
    model = reference_cnn(channels=1)
    assert [layer.name for layer in model.layers] == ["input", *LAYERS]
    assert {name: tuple(model.get_layer(name).output.shape[1:]) for name in LAYERS} == SHAPES
    assert {name: model.get_layer(name).count_params() for name in PARAMS} == PARAMS
    assert model.count_params() == 53_818


def test_rgb_input_only_changes_the_first_convolution():
    model = reference_cnn(channels=3)
    assert model.get_layer("conv2d_1").count_params() == 3 * 9 * 16 + 16
    assert model.count_params() == 53_818 + 2 * 9 * 16


def test_bfloat16_computes_hidden_layers_in_bfloat16_and_keeps_float32_weights_and_softmax():
    model = reference_cnn(channels=1, precision="bfloat16")
    assert model.count_params() == 53_818
    assert model.get_layer("conv2d_2").compute_dtype == "bfloat16"
    assert all(weight.dtype == "float32" for weight in model.weights)
    assert model.get_layer("dense_2").compute_dtype == "float32"
    assert model.output.dtype == "float32"


def test_softmax_output_sums_to_one():
    model = reference_cnn(channels=1)
    probabilities = model.predict(np.random.default_rng(0).random((4, 32, 32, 1), np.float32), verbose=0)
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)


@pytest.mark.parametrize("grayscale, channels", [(True, 1), (False, 3)])
def test_model_inputs_scale_to_unit_range_and_average_channels(grayscale, channels):
    images = np.zeros((2, 32, 32, 3), np.uint8)
    images[0, 0, 0] = (255, 0, 51)
    x = model_inputs(images, grayscale)
    assert x.dtype == np.float32 and x.shape == (2, 32, 32, channels)
    expected = [102 / 255] if grayscale else [1.0, 0.0, 0.2]
    assert np.allclose(x[0, 0, 0], expected)
    assert x.min() == 0 and x.max() <= 1
