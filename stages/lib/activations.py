"""Every layer's output for a batch of images, in inference mode (dropout off), in float32."""

import keras
import numpy as np

from lib.model import layer_names

BATCH = 250


def layer_reader(model, names=None):
    """A function (images, batch) -> {layer name: (N, ...) float32 outputs} for every layer of
    `model` but the input (or the layers `names`), in order, with the weights the model holds when
    it is called.

    The last digits of a float32 result can depend on the batch an image is computed in (oneDNN
    blocks differently), so images whose numbers must not depend on each other get `batch` 1."""
    names = layer_names(model) if names is None else list(names)
    every_layer = keras.Model(model.inputs, [model.get_layer(name).output for name in names])

    def read(x, batch=BATCH):
        outputs = every_layer.predict(x, batch_size=batch, verbose=0)
        return {name: np.asarray(out, np.float32) for name, out in zip(names, outputs)}

    return read


def layer_outputs(model, x, batch=BATCH):
    """{layer name: (N, ...) float32 outputs} for every layer but the input, in order (see layer_reader)."""
    return layer_reader(model)(x, batch)


def layers_card(model, roles):
    """The facts the analysis needs of a network: layers in order with shapes, roles."""
    shapes = {name: list(model.get_layer(name).output.shape[1:]) for name in layer_names(model)}
    return {"layers": list(shapes), "shapes": shapes, "roles": roles}


def linear_twin(layer):
    """A copy of `layer` (weights and all) without its activation: its pre-activation values; the
    layer itself where it has no activation of its own."""
    config = layer.get_config()
    if config.get("activation", "linear") == "linear":
        return layer
    twin = layer.__class__.from_config({**config, "activation": "linear", "name": f"{layer.name}_pre_activation"})
    twin.build(layer.input.shape)
    twin.set_weights(layer.get_weights())
    return twin


def pre_activations(model, layer):
    """A keras.Model from the input to `layer`'s values before its activation (a ReLU's input, the
    softmax's logits), where they are the layer's own; its values as they are elsewhere."""
    source = model.get_layer(layer)
    return keras.Model(model.inputs[0], linear_twin(source)(source.input), name=f"{layer}_pre_activation")
