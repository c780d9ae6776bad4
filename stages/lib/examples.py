"""One run's dataset examples, in TensorFlow: the official test split through the trained network
and the untrained one, every layer with channels ranked, and each channel's inputs from the layer
below at its top images (lib.channels holds the measures, lib.circuits the inputs; this module runs
the networks)."""

import numpy as np

from lib.activations import layer_reader
from lib.channels import layer_examples, split_peaks
from lib.fields import field_card, receptive_field
from lib.circuits import circuits


def run_examples(model, untrained, layers, inputs, labels, indices, settings):
    """One run's examples of `layers` over the official test split (`inputs` as the model sees them,
    `labels`, `indices`) with the `channels` params: ({"<layer>/<what>": layer_examples' arrays,
    `peak_initial`, the `untrained` network's peaks, and lib.circuits' inputs}, {layer: its card:
    channels, receptive field, constant channels, the layer below})."""
    found, baseline = (split_peaks(layer_reader(network, layers), inputs) for network in (model, untrained))
    arrays, card = {}, {}
    for layer in layers:
        field = receptive_field(model, layer)
        shape = tuple(model.get_layer(layer).output.shape[1:])
        entry = layer_examples(*found[layer], shape, field, labels, indices, settings["top"], settings["tally"])
        entry["peak_initial"] = baseline[layer][0].astype(np.float32)
        arrays.update({f"{layer}/{key}": value for key, value in entry.items()})
        card[layer] = {"channels": shape[-1], "receptive_field": field_card(field),
                       "constant": np.flatnonzero(entry["constant"]).tolist()}
    built, below = circuits(model, layers, arrays, inputs, {int(index): row for row, index in enumerate(indices)})
    for layer, facts in below.items():
        card[layer].update(facts)
    return {**arrays, **built}, card
