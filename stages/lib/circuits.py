"""What builds a channel, read as Distill's "Circuits" and OpenAI Microscope read a network: its
inputs from the layer below.

The layer below a layer with channels is the nearest earlier layer with channels among its
ancestors. A channel's value at an image's peak (the position that ranks the image among its top
images) is differentiated with respect to a scale on each channel of the layer below, at scale 1
(lib.ablation.in_graph, so any network's graph): Σ over the positions of the channel below of its
activation × the gradient. Where the layer reads the one below directly (a convolution or a dense
layer, through pooling, dropout or flattening), that is weight × activation over the layer's
window, and the inputs sum to the value less the layer's bias (the *rest*). Averaged over the
channel's top images: its **inputs**, the strongest positive (excitatory) and negative
(inhibitory) named in the explorer."""

import keras
import numpy as np
import tensorflow as tf

from lib.ablation import Unablatable, in_graph
from lib.files import member, members_of


def layer_below(model, layers, layer):
    """The nearest of `layers` before `layer` (in order) among its ancestors; None where there is none."""
    ancestry = {node.name for node in keras.Model(model.inputs, model.get_layer(layer).output).layers}
    return next((name for name in reversed(layers[:layers.index(layer)]) if name in ancestry), None)


def peak_reader(model, lower, layer):
    """A compiled function (images, flat peak positions, channel) -> (the mean over the images of
    the gradient of `layer`'s channel at each image's position with respect to the scale of each
    channel of `lower` (lower channels,), the mean value there)."""
    network, change = in_graph(model, lower, reading=layer)
    scale = change.scale.value
    spec = [tf.TensorSpec([None, *model.inputs[0].shape[1:]], tf.float32), tf.TensorSpec([None], tf.int32),
            tf.TensorSpec([], tf.int32)]

    def read(images, flat, channel):
        with tf.GradientTape() as tape:
            tape.watch(scale)
            out = network(images, training=False)
            out = tf.reshape(out, [tf.shape(out)[0], -1, tf.shape(out)[-1]])
            value = tf.reduce_mean(tf.gather(out[:, :, channel], flat, batch_dims=1))
        return tape.gradient(value, scale), value

    return tf.function(read, input_signature=spec, autograph=False)


def flat_positions(position, shape):
    """(channels, top) flat indices into a layer's positions of the (row, column) `position`s
    ((-1, -1) for a layer without positions: 0)."""
    position = np.asarray(position)
    if len(shape) != 3:
        return np.zeros(position.shape[:2], np.int32)
    return (position[..., 0] * shape[1] + position[..., 1]).astype(np.int32)


def channel_inputs(model, lower, layer, images, position):
    """({"inputs" (channels, lower channels), "inputs_rest" (channels,)} float32: each channel's
    inputs from `lower` and what they leave of its value, averaged over its top `images` (channels,
    top, side, side, depth) at its peaks' `position`s (channels, top, 2)."""
    read = peak_reader(model, lower, layer)
    flat = flat_positions(position, tuple(model.get_layer(layer).output.shape[1:]))
    inputs, rest = [], []
    for channel, (x, where) in enumerate(zip(images, flat)):
        gradient, value = read(tf.constant(x, tf.float32), tf.constant(where), tf.constant(channel, tf.int32))
        inputs.append(gradient.numpy())
        rest.append(float(value) - float(gradient.numpy().sum()))
    return {"inputs": np.asarray(inputs, np.float32), "inputs_rest": np.asarray(rest, np.float32)}


def circuits(model, layers, examples, inputs, rows):
    """({"<layer>/inputs", "<layer>/inputs_rest": arrays}, {layer: {"below": the layer below or None,
    and "unread": why, where its inputs could not be read}}) for every one of `layers`: `examples`
    the examples file's arrays (lib.examples), `inputs` the images as the model sees them, `rows`
    their rows by official index."""
    arrays, cards = {}, {}
    for layer in layers:
        lower = layer_below(model, layers, layer)
        cards[layer] = {"below": lower}
        if lower is None:
            continue
        top = np.vectorize(rows.__getitem__)(examples[member(layer, "index")])
        try:
            found = channel_inputs(model, lower, layer, inputs[top], examples[member(layer, "position")])
        except Unablatable as reason:
            cards[layer] = {"below": None, "unread": str(reason)}
            continue
        arrays.update(members_of(layer, found))
    return arrays, cards
