import json
import zipfile

import keras
import numpy as np
import pytest

from lib.cifar import model_inputs
from lib.model import (ARCHITECTURES, MAPS, ROLES, Device, ImportedModelError, cpu_flags, cpu_name, infer_roles,
                       layer_names, load_imported, no_dropout, precision_for, reference, resolve_roles)
from lib.stage import StageError

LAYERS = ["conv2d_1", "conv2d_2", "pool_1", "conv2d_3", "conv2d_4", "pool_2", "conv2d_5", "conv2d_6", "dense_1",
          "dropout_1", "flatten_1", "dense_2"]
SHAPES = {
    "conv2d_1": (32, 32, 16), "conv2d_2": (32, 32, 16), "pool_1": (16, 16, 16),
    "conv2d_3": (16, 16, 16), "conv2d_4": (16, 16, 16), "pool_2": (8, 8, 16),
    "conv2d_5": (8, 8, 16), "conv2d_6": (8, 8, 16), "dense_1": (8, 8, 64),
    "dropout_1": (8, 8, 64), "flatten_1": (4096,), "dense_2": (10,),
}
PARAMS = {"conv2d_1": 160, "conv2d_2": 2320, "conv2d_3": 2320, "conv2d_4": 2320, "conv2d_5": 2320,
          "conv2d_6": 2320, "dense_1": 1088, "dense_2": 40970}


def test_the_reference_architecture_layer_by_layer():
    model = reference(channels=1)
    assert [layer.name for layer in model.layers] == ["input", *LAYERS]
    assert layer_names(model) == LAYERS
    assert {name: tuple(model.get_layer(name).output.shape[1:]) for name in LAYERS} == SHAPES
    assert {name: model.get_layer(name).count_params() for name in PARAMS} == PARAMS
    assert model.count_params() == 53_818


def test_every_architecture_names_layers_it_has_for_every_role():
    assert set(MAPS) <= set(ROLES)
    for name, architecture in ARCHITECTURES.items():
        model = architecture.build(1)
        assert resolve_roles(model, architecture.roles, f"models.{name}") == architecture.roles


def test_no_dropout_is_the_reference_less_its_dropout_layer():
    model = no_dropout(channels=1)
    assert layer_names(model) == [name for name in LAYERS if name != "dropout_1"]
    assert model.count_params() == 53_818
    assert ARCHITECTURES["no_dropout"].roles == ARCHITECTURES["reference"].roles


def test_rgb_input_only_changes_the_first_convolution():
    model = reference(channels=3)
    assert model.get_layer("conv2d_1").count_params() == 3 * 9 * 16 + 16
    assert model.count_params() == 53_818 + 2 * 9 * 16


def test_bfloat16_computes_hidden_layers_in_bfloat16_and_keeps_float32_weights_and_softmax():
    model = reference(channels=1, precision="bfloat16")
    assert model.count_params() == 53_818
    assert model.get_layer("conv2d_2").compute_dtype == "bfloat16"
    assert all(weight.dtype == "float32" for weight in model.weights)
    assert model.get_layer("dense_2").compute_dtype == "float32"
    assert model.output.dtype == "float32"


def test_softmax_output_sums_to_one():
    model = reference(channels=1)
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


def small_net(channels=1, side=32, classes=10, activation="softmax", extra=None):
    """A network built elsewhere: other layer names, a global pooling head."""
    inputs = keras.Input((side, side, channels))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="stem")(inputs)
    x = keras.layers.Conv2D(4, 3, activation="relu", name="body")(x)
    x = extra(x) if extra else x
    x = keras.layers.GlobalAveragePooling2D(name="pooled")(x)
    x = keras.layers.Dropout(0.2, name="drop")(x)
    outputs = keras.layers.Dense(classes, activation=activation, name="probs")(x)
    return keras.Model(inputs, outputs)


def saved(model, tmp_path, name="net.keras"):
    path = tmp_path / name
    model.save(path)
    return path


def test_roles_of_an_imported_network_are_inferred_and_can_be_given(tmp_path):
    model = load_imported(saved(small_net(), tmp_path), 1)
    assert infer_roles(model) == {"first_conv": "stem", "last_hidden": "pooled", "output": "probs"}
    assert resolve_roles(model, {"last_hidden": "body"}, "models.x")["last_hidden"] == "body"
    with pytest.raises(StageError, match=r"models.x.roles.last_hidden = 'nope': no such layer \(layers: stem, body"):
        resolve_roles(model, {"last_hidden": "nope"}, "models.x")


def test_a_network_without_a_convolution_needs_its_first_conv_named(tmp_path):
    inputs = keras.Input((32, 32, 1))
    x = keras.layers.Flatten(name="flat")(inputs)
    x = keras.layers.Dense(8, activation="relu", name="hidden")(x)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax", name="probs")(x))
    loaded = load_imported(saved(model, tmp_path), 1)
    with pytest.raises(StageError, match="cannot infer the first_conv layer.*models.mlp.roles.first_conv"):
        resolve_roles(loaded, {}, "models.mlp")
    assert resolve_roles(loaded, {"first_conv": "hidden"}, "models.mlp")["last_hidden"] == "hidden"


def lambda_net():
    return small_net(extra=keras.layers.Lambda(lambda t: t * 2, name="double"))


@keras.saving.register_keras_serializable(package="theirs")
class Scale(keras.layers.Layer):
    def call(self, x):
        return x * 3


def written(path, data):
    path.write_bytes(data)
    return path


def rewritten(path, change):
    """The .keras file at `path` with its config.json changed by `change`."""
    with zipfile.ZipFile(path) as source:
        entries = {info.filename: source.read(info) for info in source.infolist()}
    entries["config.json"] = json.dumps(change(json.loads(entries["config.json"]))).encode()
    with zipfile.ZipFile(path, "w") as target:
        for name, data in entries.items():
            target.writestr(name, data)
    return path


@pytest.mark.parametrize("make, message", [
    (lambda tmp: saved(lambda_net(), tmp), "Lambda runs code stored in the file"),
    (lambda tmp: saved(small_net(extra=Scale(name="scale")), tmp), "custom object 'theirs>Scale'"),
    (lambda tmp: saved(small_net(channels=3), tmp), r"input shape \(32, 32, 3\), expected \(32, 32, 1\)"),
    (lambda tmp: saved(small_net(side=28), tmp), r"input shape \(28, 28, 1\)"),
    (lambda tmp: saved(small_net(classes=5), tmp), r"output shape \(5,\), expected \(10,\)"),
    (lambda tmp: saved(small_net(activation="relu"), tmp), "the output is not a softmax"),
    (lambda tmp: written(tmp / "x.keras", b"not a zip at all"), "is not a Keras 3 .keras file"),
    (lambda tmp: tmp / "absent.keras", "no such file"),
    (lambda tmp: rewritten(saved(small_net(), tmp), lambda c: {**c, "module": "os", "class_name": "system"}),
     "custom object '.*' \\(module 'os'\\)"),
])
def test_an_unfit_or_unsafe_keras_file_is_refused_with_one_line(tmp_path, make, message):
    with pytest.raises(ImportedModelError, match=message) as error:
        load_imported(make(tmp_path), 1)
    assert "\n" not in str(error.value)


def test_auto_precision_is_bfloat16_only_where_the_cpu_computes_it_natively(tmp_path):
    assert precision_for("auto", {"avx2", "amx_bf16", "amx_tile"}) == "bfloat16"
    assert precision_for("auto", {"avx512f", "avx512_bf16"}) == "bfloat16"
    assert precision_for("auto", {"avx2", "fma", "avx512f"}) == "float32"
    assert precision_for("auto", set()) == "float32"
    assert precision_for("float32", {"amx_bf16"}) == "float32" and precision_for("bfloat16", set()) == "bfloat16"
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 amx_bf16\n\nprocessor\t: 1\nflags\t\t: fpu avx2 amx_bf16\n")
    assert cpu_flags(info) == {"fpu", "avx2", "amx_bf16"} and cpu_flags(tmp_path / "absent") == set()


def test_auto_precision_on_a_gpu_is_bfloat16_from_ampere_on_whatever_the_cpu():
    ampere, turing = Device("GPU", "NVIDIA A100", (8, 0)), Device("GPU", "NVIDIA T4", (7, 5))
    assert precision_for("auto", {"avx2"}, device=ampere) == "bfloat16"
    assert precision_for("auto", {"amx_bf16"}, device=turing) == "float32"
    assert precision_for("auto", {"amx_bf16"}, device=Device("GPU", "unknown")) == "float32"
    assert precision_for("float32", set(), device=ampere) == "float32"
    assert precision_for("auto", {"avx512_bf16"}, device=Device("CPU", "AMD EPYC")) == "bfloat16"


def test_the_cpu_is_named_as_linux_names_it(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9R14 96-Core Processor\n")
    assert cpu_name(info) == "AMD EPYC 9R14 96-Core Processor" and cpu_name(tmp_path / "absent") == "unknown"
    assert str(Device("CPU", cpu_name(info))) == "CPU AMD EPYC 9R14 96-Core Processor"
