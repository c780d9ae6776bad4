"""The receptive field of a layer's positions: which input pixels each position of a map sees,
computed from the layers between it and the input (sliding windows, padding, cropping; pointwise
layers keep it). A branching network's fields are not computed: its positions see the whole image."""

from typing import NamedTuple

from lib.cifar import SIDE
from lib.model import CONVOLUTIONS


POOLS = ("MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D")


POINTWISE = ("Dense", "EinsumDense", "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax",
             "BatchNormalization", "LayerNormalization", "Dropout", "SpatialDropout2D", "GaussianDropout",
             "GaussianNoise", "AlphaDropout", "ActivityRegularization", "Rescaling", "Normalization")


class Field(NamedTuple):
    """The receptive field of a layer's positions along the image's (height, width) axes: `size`
    pixels wide, `jump` pixels between neighbouring positions, and `start`, the input coordinate
    (pixel centres at whole numbers) of the centre of position 0."""

    size: tuple
    jump: tuple
    start: tuple


INPUT_FIELD = Field((1, 1), (1, 1), (0.0, 0.0))


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _window(field, kernel, stride, dilation, padding, size_in, size_out):
    """A field after a sliding window (a convolution or a pooling) over the previous one."""
    kernel, stride, dilation = _pair(kernel), _pair(stride), _pair(dilation)
    size, jump, start = [], [], []
    for axis in range(2):
        span = (kernel[axis] - 1) * dilation[axis]
        before = 0
        if padding == "same":
            before = max((size_out[axis] - 1) * stride[axis] + span + 1 - size_in[axis], 0) // 2
        size.append(field.size[axis] + span * field.jump[axis])
        start.append(field.start[axis] + (span / 2 - before) * field.jump[axis])
        jump.append(field.jump[axis] * stride[axis])
    return Field(tuple(size), tuple(jump), tuple(start))


def _chain(model, layer):
    """The layers from the input to `layer`, in order; None where one of them has several inputs
    (a branching network, whose fields this module does not compute)."""
    import keras

    path, current = [], model.get_layer(layer)
    while not isinstance(current, keras.layers.InputLayer):
        try:
            inputs = current.input
        except (AttributeError, ValueError):
            return None
        if isinstance(inputs, (list, tuple, dict)):
            return None
        path.append(current)
        current = inputs._keras_history.operation
    return path[::-1]


def _spatial(shape):
    """(height, width) of a layer's (batch, height, width, channels) shape; None for another rank."""
    return tuple(shape[1:3]) if len(shape) == 4 else None


def receptive_field(model, layer):
    """The Field of `layer`'s positions, computed from the layers between it and the input; None
    where `layer` has no spatial axes or a layer on the way is one this module cannot follow (its
    positions then see the whole image)."""
    path = _chain(model, layer)
    if path is None:
        return None
    field = INPUT_FIELD
    for step in path:
        kind, config = type(step).__name__, step.get_config()
        shape_in, shape_out = _spatial(step.input.shape), _spatial(step.output.shape)
        if shape_in is None or shape_out is None:
            return None
        if kind in CONVOLUTIONS:
            field = _window(field, config["kernel_size"], config["strides"], config.get("dilation_rate", 1),
                            config["padding"], shape_in, shape_out)
        elif kind in POOLS:
            field = _window(field, config["pool_size"], config["strides"] or config["pool_size"], 1,
                            config["padding"], shape_in, shape_out)
        elif kind == "ZeroPadding2D":
            (top, _), (left, _) = config["padding"]
            field = field._replace(start=(field.start[0] - top * field.jump[0], field.start[1] - left * field.jump[1]))
        elif kind == "Cropping2D":
            (top, _), (left, _) = config["cropping"]
            field = field._replace(start=(field.start[0] + top * field.jump[0], field.start[1] + left * field.jump[1]))
        elif kind not in POINTWISE or shape_in != shape_out:
            return None
    return field


def box(field, row, col, side=SIDE):
    """(top, left, bottom, right), bottom and right exclusive: the input pixels position (row, col)
    of a layer sees, clipped to the image; the whole image where the field is None."""
    if field is None:
        return 0, 0, side, side
    edges = []
    for axis, position in enumerate((row, col)):
        low = int(round(field.start[axis] + position * field.jump[axis] - (field.size[axis] - 1) / 2))
        edges.append((max(low, 0), min(low + int(field.size[axis]), side)))
    (top, bottom), (left, right) = edges
    return top, left, bottom, right


def field_card(field):
    """A Field as JSON, or None."""
    return None if field is None else {name: [float(v) for v in value] for name, value in field._asdict().items()}
