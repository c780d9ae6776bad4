"""Every layer's output for a batch of images, in inference mode (dropout off), in float32."""

import keras

from lib.model import LAYERS, reference_cnn

BATCH = 250


def float32_twin(model):
    """The same weights in a float32 reference model (a bfloat16-trained model is read exactly)."""
    twin = reference_cnn(channels=model.input.shape[-1], precision="float32")
    twin.set_weights(model.get_weights())
    return twin


def layer_outputs(model, x):
    """{layer name: (N, ...) float32 outputs} for every layer of the reference CNN."""
    every_layer = keras.Model(model.input, [model.get_layer(name).output for name in LAYERS])
    return dict(zip(LAYERS, every_layer.predict(x, batch_size=BATCH, verbose=0)))
