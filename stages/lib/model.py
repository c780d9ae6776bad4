"""The networks: a registry of architectures, each with its layer roles, and imported .keras files,
checked before any of their code could run.

A network's layers are its own (every layer but the input, in order). Roles name the layers the
analysis singles out: `first_conv` (the first convolution), `last_hidden` (the last hidden layer:
the article's "last layer") and `output` (the softmax); `MAPS` are the roles drawn as feature maps;
`last_conv` (the last 2-D convolution) is found in every network, never named in params.
Nothing outside this module names a layer.

Keras is imported only where a model is built or loaded, so reading the registry costs no
TensorFlow start-up.
"""

import json
import os
import zipfile
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from lib.cifar import CLASSES, SIDE
from lib.keys import OUTPUT
from lib.stage import StageError

ROLES = ("first_conv", "last_hidden", OUTPUT)
MAPS = ("first_conv", "last_hidden")
COMPARED_ROLES = ("first_conv", "last_hidden")  # the roles at which models are compared (and claims R1, R2 judged)
LAST_CONV = "last_conv"  # the network's last 2-D convolution: a role found, never given (Grad-CAM, claim R3)
FILTERS = 16
HIDDEN = 64
DROPOUT = 0.5
PASS_THROUGH = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianDropout",
                "GaussianNoise", "AlphaDropout", "ActivityRegularization", "Flatten", "Reshape", "Activation",
                "Softmax")
REFUSED = ("Lambda", "TFSMLayer", "__lambda__")
DATA = ("__keras_tensor__", "__tensor__", "__numpy__", "__bytes__", "__ellipsis__", "__slice__")  # values, not code
MAX_CONFIG_BYTES = 16 << 20
MAX_KERAS_BYTES = 1 << 30


NATIVE_BFLOAT16 = ("amx_bf16", "avx512_bf16")  # CPU flags whose bfloat16 arithmetic beats float32
CPU_INFO = "/proc/cpuinfo"


def cpu_flags(path=CPU_INFO):
    """The CPU's feature flags as Linux lists them; none where it does not."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return set()
    return {flag for line in text.splitlines() if line.startswith("flags") for flag in line.split(":", 1)[1].split()}


def cpu_name(path=CPU_INFO):
    """The CPU's model name as Linux gives it ("unknown" where it does not)."""
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return "unknown"
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "unknown")


class Device(NamedTuple):
    """What a network trains on: `kind` CPU or GPU, its `name`, and a GPU's compute `capability`."""

    kind: str
    name: str
    capability: tuple | None = None

    def __str__(self):
        return f"{self.kind} {self.name}"


GPU_BFLOAT16 = (8, 0)  # the compute capability from which NVIDIA GPUs compute bfloat16 natively (Ampere)


def precision_for(setting, flags=None, device=None):
    """train.precision resolved: "auto" is bfloat16 where the device computes it natively (a GPU of
    compute capability 8.0 or more; a CPU with AMX or AVX-512 BF16), float32 elsewhere (emulated
    bfloat16 is several times slower)."""
    if setting != "auto":
        return setting
    if device is not None and device.kind == "GPU":
        return "bfloat16" if tuple(device.capability or (0, 0)) >= GPU_BFLOAT16 else "float32"
    flags = cpu_flags() if flags is None else flags
    return "bfloat16" if any(flag in flags for flag in NATIVE_BFLOAT16) else "float32"


class Architecture(NamedTuple):
    """A network built here: `build(channels, precision)` -> keras.Model, and its layer roles."""

    build: Callable
    roles: dict


ARCHITECTURES = {}


def architecture(roles):
    """Register the decorated builder under its function name, with its roles."""

    def register(build):
        ARCHITECTURES[build.__name__] = Architecture(build, roles)
        return build

    return register


def _cnn(name, channels, precision, dropout):
    """The article's CNN; `dropout` None leaves the dropout layer out."""
    import keras
    from keras import layers

    dtype = "float32" if precision == "float32" else f"mixed_{precision}"

    def conv(layer):
        return layers.Conv2D(FILTERS, 3, padding="same", activation="relu", name=layer, dtype=dtype)

    def pool(layer):
        return layers.MaxPooling2D(2, name=layer, dtype=dtype)

    inputs = keras.Input((SIDE, SIDE, channels), name="input")
    x = conv("conv2d_1")(inputs)
    x = conv("conv2d_2")(x)
    x = pool("pool_1")(x)
    x = conv("conv2d_3")(x)
    x = conv("conv2d_4")(x)
    x = pool("pool_2")(x)
    x = conv("conv2d_5")(x)
    x = conv("conv2d_6")(x)
    x = layers.Dense(HIDDEN, activation="relu", name="dense_1", dtype=dtype)(x)
    if dropout is not None:
        x = layers.Dropout(dropout, name="dropout_1", dtype=dtype)(x)
    x = layers.Flatten(name="flatten_1", dtype=dtype)(x)
    outputs = layers.Dense(len(CLASSES), activation="softmax", name="dense_2", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


CNN_ROLES = {"first_conv": "conv2d_1", "last_hidden": "dense_1", OUTPUT: "dense_2"}


@architecture(CNN_ROLES)
def reference(channels, precision="float32"):
    """The article's CNN: six 3x3 convolutions in three blocks, a per-position dense layer, dropout 0.5, softmax.

    53,818 parameters for one input channel. With precision "bfloat16" the hidden layers compute
    in bfloat16 (weights stay float32); the softmax layer always computes in float32.
    """
    return _cnn("reference_cnn", channels, precision, DROPOUT)


@architecture(CNN_ROLES)
def no_dropout(channels, precision="float32"):
    """The reference without its dropout layer (same weights and parameters): is the last layer's sparsity dropout's?"""
    return _cnn("no_dropout_cnn", channels, precision, None)


def _layers(model):
    """Every layer of `model` but its input, in order."""
    import keras

    return [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]


def layer_names(model):
    return [layer.name for layer in _layers(model)]


def infer_roles(model):
    """Roles of a network built elsewhere: the first Conv2D; the output layer; the last layer
    before the output that is not a pass-through (dropout, noise, flatten, reshape, activation)."""
    layers = _layers(model)
    convs = [layer.name for layer in layers if type(layer).__name__ == "Conv2D"]
    hidden = [layer.name for layer in layers[:-1] if type(layer).__name__ not in PASS_THROUGH]
    return {"first_conv": convs[0] if convs else None, "last_hidden": hidden[-1] if hidden else None,
            OUTPUT: layers[-1].name}


CONVOLUTIONS = ("Conv1D", "Conv2D", "Conv3D", "SeparableConv1D", "SeparableConv2D", "DepthwiseConv1D",
                "DepthwiseConv2D")


def channel_layers(model, roles):
    """The layers whose channels are studied one by one (lib.reliance): every convolution, and the
    last hidden layer, in the network's order; the last axis of a layer's output is its channels."""
    return [layer.name for layer in _layers(model)
            if type(layer).__name__ in CONVOLUTIONS or layer.name == roles["last_hidden"]]


def last_convolution(model):
    """The network's last 2-D convolution, where Grad-CAM is taken; None if it has none."""
    found = [layer.name for layer in model.layers
             if type(layer).__name__ in CONVOLUTIONS and len(layer.output.shape) == 4]
    return found[-1] if found else None


def resolve_roles(model, given, key):
    """{role: layer} from `given` (an architecture's or params' roles) and inference for the rest;
    a role naming no layer of the model, or one that cannot be inferred, is refused naming `key`."""
    names = layer_names(model)
    roles = {**infer_roles(model), **(given or {})}
    for role in ROLES:
        if roles[role] is None:
            raise StageError(f"{key}: cannot infer the {role} layer of this network; name it in "
                             f"{key}.roles.{role} (layers: {', '.join(names)})")
        if roles[role] not in names:
            raise StageError(f"{key}.roles.{role} = {roles[role]!r}: no such layer (layers: {', '.join(names)})")
    return {role: roles[role] for role in ROLES}


def imported(settings):
    """Whether a model's settings name a .keras file trained elsewhere (else it is trained here)."""
    return "keras" in settings


def trained(models):
    """The models trained here (not imported), with their settings."""
    return {name: model for name, model in models.items() if not imported(model)}


def trained_sizes(models):
    """{model: train_size} of the models trained here, smallest first."""
    sizes = {name: m["train_size"] for name, m in trained(models).items()}
    return dict(sorted(sizes.items(), key=lambda item: item[1]))


def largest(models):
    """The model trained on the most images (the first such in params order); None if none is trained here."""
    sizes = trained_sizes(models)
    return max(sizes, key=sizes.get) if sizes else None


def smallest(models):
    sizes = trained_sizes(models)
    return min(sizes, key=sizes.get) if sizes else None


def build(settings, channels, precision):
    """A new network of the architecture `settings` names."""
    return ARCHITECTURES[settings["architecture"]].build(channels, precision)


def in_float32(model):
    """The same network, weights and all, computing in float32: a model saved with a bfloat16 or
    mixed dtype policy (trained here at train.precision bfloat16, or imported) is read exactly."""
    import keras

    if all(layer.dtype_policy.name == "float32" for layer in model.layers):
        return model

    def float32_layer(layer):
        return layer.__class__.from_config({**layer.get_config(), "dtype": "float32"})

    twin = keras.models.clone_model(model, clone_function=float32_layer)
    twin.set_weights(model.get_weights())
    return twin


class ImportedModelError(StageError):
    """An imported .keras file that cannot be analysed."""


def _objects(node):
    """Every serialised object (a dict with a class_name) in a Keras config, depth first."""
    if isinstance(node, dict):
        if "class_name" in node:
            yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def inspect_keras(path):
    """Read a .keras file's config.json without deserialising anything; refuse what would run code."""
    try:
        size = os.path.getsize(path)
        if size > MAX_KERAS_BYTES:
            raise ImportedModelError(f"{path} is {size} bytes, more than the {MAX_KERAS_BYTES} a network may have")
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("config.json")
            if info.file_size > MAX_CONFIG_BYTES:
                raise ImportedModelError(f"{path}: config.json is {info.file_size} bytes, more than the "
                                         f"{MAX_CONFIG_BYTES} a network's config may have")
            config = json.loads(archive.read(info))
    except FileNotFoundError as error:
        raise ImportedModelError(f"{path}: no such file") from error
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise ImportedModelError(f"{path} is not a Keras 3 .keras file (a zip holding config.json): "
                                 f"{' '.join(str(error).split())}") from error
    for obj in _objects(config):
        name, module = obj.get("class_name"), obj.get("module")
        if name in DATA and module is None:
            continue
        if name in REFUSED:
            raise ImportedModelError(f"{path}: {name} runs code stored in the file; only Keras' built-in layers "
                                     "without code of their own can be imported")
        registered = obj.get("registered_name")
        if not isinstance(module, str) or not (module == "keras" or module.startswith("keras.")) or \
                (registered is not None and registered != name):
            raise ImportedModelError(f"{path}: custom object {registered or name!r} (module {module!r}); "
                                     "only Keras' built-in objects can be imported (no code from the file is run)")
    return config


def load_imported(path, channels):
    """Load a .keras network safely and check it fits: one 32x32x`channels` input, a 10-way softmax output."""
    inspect_keras(path)
    import keras

    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # noqa: BLE001 - any failure to rebuild the network is the file's
        raise ImportedModelError(f"{path}: Keras cannot load it ({type(error).__name__}: "
                                 f"{' '.join(str(error).split())[:300]})") from error
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ImportedModelError(f"{path}: has {len(model.inputs)} inputs and {len(model.outputs)} outputs; "
                                 "one of each is needed")
    expected = (SIDE, SIDE, channels)
    if tuple(model.inputs[0].shape[1:]) != expected:
        raise ImportedModelError(f"{path}: input shape {tuple(model.inputs[0].shape[1:])}, expected {expected} "
                                 f"({'grayscale' if channels == 1 else 'RGB'}, as data.grayscale says)")
    if tuple(model.outputs[0].shape[1:]) != (len(CLASSES),):
        raise ImportedModelError(f"{path}: output shape {tuple(model.outputs[0].shape[1:])}, expected "
                                 f"({len(CLASSES)},): one probability per CIFAR-10 class")
    probe = np.random.default_rng(0).random((4, *expected), dtype=np.float32)
    out = np.asarray(model(probe, training=False), np.float64)
    if not (np.all(out >= 0) and np.allclose(out.sum(axis=1), 1, atol=1e-3)):
        raise ImportedModelError(f"{path}: the output is not a softmax (rows must be probabilities summing to 1)")
    return model
