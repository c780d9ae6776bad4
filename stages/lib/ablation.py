"""One run's channels ablated, in TensorFlow, for every layer with channels of any network: the
layers above a layer run on its stored values where they need nothing else (the shortcut, exact),
else the whole network runs from the input with the layer's output changed inside the graph
(skip connections, branches); each change (channels masked, or a direction projected out) inside
one compiled graph. lib.reliance scores the outcomes; this module runs the network.

The random orders and directions of a run's layer come from their own stream of ablation.seed
(named by the run's seed and the layer), so that adding a layer or a run moves no other's."""

import keras
import numpy as np
import tensorflow as tf

from lib.activations import BATCH, layer_reader
from lib.files import members_of
from lib.model import LAST_CONV, channel_layers, last_convolution
from lib.stats import named_stream


def ablation_counts(channels):
    """Channels zeroed at each point of a curve: every count from 0 to all."""
    return list(range(channels + 1))


def ablation_orders(channels, orders, rng):
    """(orders, channels): each row an order in which the channels are zeroed."""
    return np.stack([rng.permutation(channels) for _ in range(orders)])


def curve_masks(orders, counts):
    """(counts, orders, channels) float32 masks: 0 for the first `count` channels of each order."""
    masks = np.ones((len(counts), *orders.shape), np.float32)
    for k, count in enumerate(counts):
        for o, order in enumerate(orders):
            masks[k, o, order[:count]] = 0
    return masks


def single_masks(channels):
    """(channels, channels) float32 masks, row c zeroing channel c alone."""
    return 1 - np.eye(channels, dtype=np.float32)


def outcomes(ablator, labels, masks):
    """Per mask and image, whether the network still predicts the label and the label's probability.

    `ablator.masked(mask)` runs the rest of the network on the layer's values with each channel
    scaled by `mask` and returns (N, classes) probabilities (Ablator, below); `masks`
    (M, channels). Each distinct mask is evaluated once. Returns (M, N) bool and (M, N) float32."""
    unique, inverse = np.unique(masks, axis=0, return_inverse=True)
    rows = np.arange(len(labels))
    correct = np.empty((len(unique), len(labels)), bool)
    p_label = np.empty((len(unique), len(labels)), np.float32)
    for i, mask in enumerate(unique):
        probabilities = np.asarray(ablator.masked(mask))
        correct[i] = probabilities.argmax(axis=1) == labels
        p_label[i] = probabilities[rows, labels]
    inverse = inverse.reshape(-1)
    return correct[inverse], p_label[inverse]


def random_directions(channels, count, rng):
    """(count, channels) random unit directions of a layer's channel space: Morcos et al.'s baseline
    for the importance of one channel (a unit direction)."""
    found = rng.standard_normal((count, channels))
    return found / np.linalg.norm(found, axis=1, keepdims=True)


def direction_outcomes(ablator, labels, directions):
    """(D, N) bool: whether the network still predicts each image's label with each of `directions`
    (D, channels) projected out of the layer's values at every position (`ablator.projected`)."""
    return np.stack([np.asarray(ablator.projected(direction)).argmax(axis=1) == labels for direction in directions])


def channel_activity(acts):
    """(N, channels) float64: each image's activation of each channel, averaged over positions."""
    acts = np.asarray(acts, np.float64)
    return acts.reshape(len(acts), -1, acts.shape[-1]).mean(axis=1)


def ablate_layer(ablator, acts, labels, orders, directions):
    """One run's layer ablated: {"counts", "correct", "p_label" (counts, N) averaged over the orders,
    "p_label_intact" (N,) with nothing ablated, "single_correct" (channels, N) bool and
    "single_p_label" (channels, N) with each channel alone zeroed, "direction_correct" (D, N) bool
    with each of `directions` projected out instead, "activity" (N, channels)}."""
    channels = acts.shape[-1]
    counts = ablation_counts(channels)
    masks = curve_masks(orders, counts)
    correct, p_label = outcomes(ablator, labels, np.concatenate([masks.reshape(-1, channels),
                                                                         single_masks(channels)]))
    curve = len(counts) * len(orders)
    return {"counts": np.array(counts), "correct": correct[:curve].reshape(len(counts), len(orders), -1).mean(axis=1),
            "p_label": p_label[:curve].reshape(len(counts), len(orders), -1).mean(axis=1),
            "p_label_intact": p_label[0], "single_correct": correct[curve:], "single_p_label": p_label[curve:],
            "direction_correct": direction_outcomes(ablator, labels, directions),
            "activity": channel_activity(acts)}


class Unablatable(Exception):
    """A layer whose channels cannot be changed inside the network (said in the outputs, skipped)."""


def rest_model(model, layer):
    """A keras.Model: the layers after `layer`, from its output to the network's; None where they
    need more than its output (a skip connection around it)."""
    try:
        return keras.Model(model.get_layer(layer).output, model.outputs[0])
    except ValueError:
        return None


class ChannelChange(keras.layers.Layer):
    """Its input with each channel scaled by `scale` (ones: unchanged), or, while `projecting` (read
    when a graph is traced: one graph per setting), with the unit `direction` projected out of every
    position's channel vector instead."""

    def __init__(self, channels, **kwargs):
        super().__init__(**kwargs)
        self.scale = self.add_weight(shape=(channels,), initializer="ones", trainable=False, name="scale")
        self.direction = self.add_weight(shape=(channels,), initializer="zeros", trainable=False, name="direction")
        self.projecting = False

    def call(self, x):
        if not self.projecting:
            return x * keras.ops.cast(self.scale, x.dtype)
        direction = keras.ops.cast(self.direction, x.dtype)
        return x - keras.ops.tensordot(x, direction, 1)[..., None] * direction


def in_graph(model, layer, reading=None):
    """(a keras.Model from the network's input to its output, or to layer `reading`'s output, with
    a ChannelChange applied to `layer`'s output wherever it is used; that change). The network's
    own layers are shared, not copied. Unablatable where the network cannot be rebuilt so."""
    target = model.get_layer(layer)
    change = ChannelChange(int(target.output.shape[-1]), name=f"{layer}_changed")
    outputs = {}

    def call(operation, *args, **kwargs):
        out = operation(*args, **kwargs)
        out = change(out) if operation is target else out
        outputs[operation.name] = out
        return out

    try:
        copy = keras.models.clone_model(model, clone_function=lambda operation: operation, call_function=call)
        changed = copy if reading is None else keras.Model(copy.inputs, outputs[reading])
    except Exception as error:  # Keras' errors for a graph it cannot rebuild are of many kinds
        raise Unablatable(f"{layer}: the network cannot be rebuilt with its output changed "
                          f"({type(error).__name__}: {' '.join(str(error).split())[:160]})") from error
    if not any(node is change for node in changed.layers):
        raise Unablatable(f"{layer}: its output does not reach {reading or 'the output'}")
    return changed, change


def batched(network, data, batch):
    """A compiled function (no arguments) running `network` on `data` (a tf constant), `batch` at a time."""
    def run():
        return tf.concat([network(data[start:start + batch], training=False) for start in range(0, len(data), batch)],
                         axis=0)
    return tf.function(run, autograph=False)


class Ablator:
    """The network's outputs with one layer's channels changed: `masked(mask)` scales each channel
    by the mask's entry, `projected(direction)` removes a unit direction from every position's
    channel vector; each -> (N, classes) float32 probabilities. From the layer's stored `values`
    (N, ..., channels) through the layers after it where they need nothing else (`path` "stored"),
    else from the `inputs` through the whole network with the change inside it (`path` "graph", which
    `path` can also ask for)."""

    def __init__(self, model, layer, values, inputs=None, batch=2 * BATCH, path=None):
        rest = None if path == "graph" else rest_model(model, layer)
        if rest is None and inputs is None:
            raise Unablatable(f"{layer}: the layers after it need more than its output, and no inputs were given "
                              "to run the whole network on")
        if rest is not None:
            self.path, self.change = "stored", ChannelChange(values.shape[-1])
            network, data = (lambda x, training: rest(self.change(x), training=training)), values
        else:
            self.path, (network, self.change), data = "graph", in_graph(model, layer), inputs
        data = tf.constant(data, tf.float32)
        self._runs = {projecting: batched(network, data, batch) for projecting in (False, True)}

    def _run(self, projecting):
        self.change.projecting = projecting
        try:
            return self._runs[projecting]().numpy()
        finally:
            self.change.projecting = False

    def masked(self, mask):
        self.change.scale.assign(np.asarray(mask, np.float32))
        return self._run(False)

    def projected(self, direction):
        self.change.direction.assign(np.asarray(direction, np.float32))
        return self._run(True)


def ablated_layers(model, untrained, layers, acts, inputs, labels, settings, run_seed):
    """(layer, ablate_layer's arrays and the untrained network's `activity_initial`, how it was
    ablated: "stored", "graph" or why it could not be) for each of `layers` of one run in turn:
    `acts` its stored probe activations, `inputs` the probe images, `settings` the ablation params;
    the orders and random directions on streams of the layer's own. A layer that cannot be ablated
    yields no arrays."""
    before = layer_reader(untrained, layers)(inputs)
    for layer in layers:
        try:
            ablator = Ablator(model, layer, acts[layer], inputs)
        except Unablatable as reason:
            yield layer, None, str(reason)
            continue
        channels = acts[layer].shape[-1]
        orders = ablation_orders(channels, settings["orders"], named_stream(settings["seed"], run_seed, layer))
        directions = random_directions(channels, channels, named_stream(settings["seed"], run_seed, f"{layer} directions"))
        found = ablate_layer(ablator, acts[layer], labels, orders, directions)
        yield layer, {**found, "activity_initial": channel_activity(before[layer])}, ablator.path


def ablate_run(model, untrained, roles, acts, inputs, labels, settings, run_seed, said=lambda line: None):
    """One run's layers with channels ablated (ablated_layers): ({"<layer>/<what>": arrays}, the
    card's {"roles" (with the last convolution), "layers": {layer: channels, counts, path, intact
    accuracy}, "skipped": {layer: why}}); `said` gets a line per layer."""
    arrays, layers, skipped = {}, {}, {}
    for layer, found, how in ablated_layers(model, untrained, channel_layers(model, roles), acts, inputs, labels,
                                            settings, run_seed):
        if found is None:
            skipped[layer] = how
            said(f"{how}; skipped")
            continue
        arrays.update(members_of(layer, found))
        layers[layer] = {"channels": int(found["counts"][-1]), "counts": found["counts"].tolist(), "path": how,
                         "intact_accuracy": float(found["correct"][0].mean())}
        said(f"{layer}: {layers[layer]['channels']} channels ({how}); probe accuracy "
             f"{found['correct'][0].mean():.3f} intact, {found['correct'][-1].mean():.3f} all zeroed")
    return arrays, {"roles": {**roles, LAST_CONV: last_convolution(model)}, "layers": layers, "skipped": skipped}
