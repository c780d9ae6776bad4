"""One run's dataset examples, in TensorFlow: the official test split through the trained network
and the untrained one, every layer with channels ranked (lib.channels holds the measures; this
module runs the networks)."""

import numpy as np

from lib.activations import layer_reader
from lib.channels import field_card, layer_examples, receptive_field, split_peaks


def run_examples(model, untrained, layers, inputs, labels, indices, settings):
    """One run's examples of `layers` over the official test split (`inputs` as the model sees them,
    `labels`, `indices`) with the `channels` params: ({"<layer>/<what>": layer_examples' arrays and
    `peak_initial`, the `untrained` network's peaks}, {layer: its card: channels, receptive field,
    constant channels})."""
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
    return arrays, card
