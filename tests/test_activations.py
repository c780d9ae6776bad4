import numpy as np

from lib.activations import layer_outputs
from lib.model import in_float32, layer_names, reference
from lib.training import deterministic

REFERENCE = {"architecture": "reference"}


def test_every_layer_in_inference_mode_bit_identical_twice():
    deterministic(0)
    model = reference(1)
    x = np.random.default_rng(0).random((6, 32, 32, 1), dtype=np.float32)
    first, second = layer_outputs(model, x), layer_outputs(model, x)
    assert list(first) == layer_names(model)
    assert all(np.array_equal(first[layer], second[layer]) for layer in first)
    assert np.array_equal(first["dropout_1"], first["dense_1"])  # dropout is off
    assert first["conv2d_1"].shape == (6, 32, 32, 16) and first["dense_2"].shape == (6, 10)
    assert all(values.dtype == np.float32 for values in first.values())


def test_a_bfloat16_model_is_read_through_a_float32_twin_with_the_same_weights():
    deterministic(0)
    model = reference(1, precision="bfloat16")
    twin = in_float32(model)
    assert all(layer.compute_dtype == "float32" for layer in twin.layers)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), twin.get_weights()))
    x = np.random.default_rng(0).random((3, 32, 32, 1), dtype=np.float32)
    plain = reference(1)
    plain.set_weights(model.get_weights())
    assert all(np.array_equal(a, b) for a, b in zip(layer_outputs(twin, x).values(), layer_outputs(plain, x).values()))
    assert in_float32(plain) is plain


def test_a_bfloat16_file_reads_the_same_as_a_model_trained_here_and_imported(tmp_path):
    from lib.network import network
    from lib.store import save_model

    deterministic(0)
    save_model(reference(1, precision="bfloat16"), tmp_path / "m.keras")
    here, _ = network(tmp_path / "m.keras", REFERENCE, 1, "models.m")
    taken_in, _ = network(tmp_path / "m.keras", {"keras": "imported/m.keras", "roles": {}}, 1, "models.m")
    x = np.random.default_rng(2).random((4, 32, 32, 1), dtype=np.float32)
    a, b = layer_outputs(here, x), layer_outputs(taken_in, x)
    assert all(layer.compute_dtype == "float32" for layer in taken_in.layers)
    assert all(np.array_equal(a[layer], b[layer]) for layer in a)


def test_an_image_computed_alone_gives_the_same_numbers_whatever_else_is_extracted():
    deterministic(0)
    model = reference(1)
    x = np.random.default_rng(1).random((5, 32, 32, 1), dtype=np.float32)
    alone = layer_outputs(model, x[:1], batch=1)
    among = layer_outputs(model, x, batch=1)
    assert all(np.array_equal(alone[layer][0], among[layer][0]) for layer in alone)
