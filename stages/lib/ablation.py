"""One run's channels ablated, in TensorFlow: the layers above a layer run on its stored values,
masked or with a direction projected out inside one compiled graph, for every layer with channels
(lib.reliance holds the measures; this module runs the network)."""

import keras
import numpy as np
import tensorflow as tf

from lib.activations import BATCH, layer_reader
from lib.reliance import ablate_layer, ablation_orders, channel_activity, order_stream, random_directions
from lib.stage import StageError


def rest_model(model, layer):
    """A keras.Model: the layers after `layer`, from its output to the network's."""
    try:
        return keras.Model(model.get_layer(layer).output, model.outputs[0])
    except ValueError as error:
        raise StageError(f"{layer}: the layers after it need more than its output ({' '.join(str(error).split())[:200]}); "
                         "its channels cannot be ablated from its stored values") from error


class Ablator:
    """The layers after `layer` run on its stored `values` (N, ..., channels), changed inside one
    compiled graph (the values stay in TensorFlow, `batch` images at a time): `masked(mask)` scales
    each channel by the mask's entry, `projected(direction)` removes a unit direction from every
    position's channel vector; each -> (N, classes) float32."""

    def __init__(self, model, layer, values, batch=2 * BATCH):
        rest, stored = rest_model(model, layer), tf.constant(values, tf.float32)
        vector = [tf.TensorSpec([values.shape[-1]], tf.float32)]

        def compiled(change):
            def run(v):
                return tf.concat([rest(change(stored[start:start + batch], v), training=False)
                                  for start in range(0, len(values), batch)], axis=0)
            return tf.function(run, input_signature=vector, autograph=False)

        self._masked = compiled(lambda x, mask: x * mask)
        self._projected = compiled(lambda x, direction: x - tf.tensordot(x, direction, 1)[..., None] * direction)

    def masked(self, mask):
        return self._masked(np.asarray(mask, np.float32)).numpy()

    def projected(self, direction):
        return self._projected(np.asarray(direction, np.float32)).numpy()




def ablated_layers(model, untrained, layers, acts, inputs, labels, settings, run_seed):
    """(layer, ablate_layer's arrays and the untrained network's `activity_initial`) for each of
    `layers` of one run in turn: `acts` its stored probe activations, `inputs` the probe images,
    `settings` the ablation params; the orders and random directions on streams of the layer's own."""
    before = layer_reader(untrained, layers)(inputs)
    for layer in layers:
        channels = acts[layer].shape[-1]
        orders = ablation_orders(channels, settings["orders"], order_stream(settings["seed"], run_seed, layer))
        directions = random_directions(channels, channels, order_stream(settings["seed"], run_seed, f"{layer} directions"))
        found = ablate_layer(Ablator(model, layer, acts[layer]), acts[layer], labels, orders, directions)
        yield layer, {**found, "activity_initial": channel_activity(before[layer])}
