"""What a channel responds to, by optimisation (feature visualization, Olah et al. 2017, "Feature
Visualization", Distill): an input built to excite one channel as much as it can, from a fixed
seed, for every channel of a layer at once (each image in a batch serves its own channel).

- **Objective.** The channel's value before its layer's activation (Lucid's `pre_relu`: a channel
  whose ReLU is closed everywhere still has a gradient), either at the centre of its map
  (`centre`, Lucid's `neuron`: the channel's feature at one place, inside its receptive field) or
  averaged over every position (`mean`, Lucid's `channel`: the feature tiled over the picture).
  The default is `centre`: a convolutional channel is the same detector at every position, and
  the mean over positions of a linear detector rewards the sum of its weights, not their pattern
  (an edge detector's weights sum to zero). For the output layer, each class's logit.
- **Parameterisation.** The image is the sigmoid of the inverse real FFT of a spectrum scaled by
  1/frequency (Lucid's `fft_image`): in these coordinates the gradient steps are decorrelated
  across space, so low frequencies move as fast as high ones and the noise a pixel
  parameterisation grows is not favoured; the sigmoid keeps pixels in the model's range [0, 1].
  Each of the image's channels (one in grayscale) has its own spectrum.
- **Transformation robustness.** At every step the image is padded by `jitter` pixels (mirrored)
  and cropped back at a random offset, so a pattern that excites the channel only at one exact
  pixel alignment is not rewarded.
- **Window.** Pixels the channel cannot see stay grey: for the `centre` objective the image is
  grey outside the receptive field of the centre position (lib.channels), widened by `jitter`, the
  pixels the shifted image can bring into it. The Fourier parameterisation spreads a step over the
  whole picture (its steps filter the pixel gradient by 1/f²), which otherwise paints a 3×3
  detector's pattern into a blob ten pixels wide; the window is reported (`box`) so that the
  picture is shown cropped to it. The `mean` objective and layers without a field see the whole image.
- **Optimiser.** Gradient ascent on the spectrum, `steps` steps, each image's gradient scaled to
  a root mean square of `learning_rate`: Lucid's Adam rescales every coordinate on its own, which
  undoes the decorrelation (a coordinate with a tiny, steady gradient moves as fast as the
  strongest) and lets noise grow where the objective is indifferent.
- **L2 penalty.** Every step shrinks the spectrum by the share `decay` (Simonyan et al. 2013's
  penalty on the image): what the objective does not ask for returns to grey, so of the inputs
  that excite a channel equally the plainest is drawn (the pixels a detector ignores stay grey).

A channel whose objective has no gradient at any step is `constant` (no input changes it: a
dead channel): its image is NaN, never noise drawn as a picture. Same params, same machine: the
same images, bit for bit (seeded start and offsets, deterministic ops).
"""

import numpy as np

from lib.fields import box, receptive_field
from lib.files import members_of
from lib.stats import named_stream

CHANNELS_AT_ONCE = 64  # channels optimised in one batch (a layer with more is done in parts)
INITIAL_SCALE = 0.01


def frequencies(side):
    """(side, side // 2 + 1) spatial frequencies of a real FFT of a side x side image."""
    fy = np.fft.fftfreq(side)[:, None]
    fx = np.fft.rfftfreq(side)[None, :]
    return np.sqrt(fx * fx + fy * fy)


def spectrum_scale(side):
    """1/frequency, the constant term as the lowest frequency: the decorrelating scale."""
    return (1 / np.maximum(frequencies(side), 1 / side)).astype(np.float32)


def start_spectrum(rng, count, side, channels):
    """(count, channels, side, side // 2 + 1, 2) float32: the seeded starting point (real, imaginary)."""
    return (rng.standard_normal((count, channels, side, side // 2 + 1, 2)) * INITIAL_SCALE).astype(np.float32)


class Visualizer:
    """Optimises inputs for the channels of one layer of a float32 model."""

    def __init__(self, model, layer, settings):
        import tensorflow as tf

        from lib.activations import pre_activations

        tf.get_logger().setLevel("ERROR")  # each layer's step is a graph of its own: its tracing is no retracing
        self.settings = settings
        self.read = pre_activations(model, layer)
        self.side, self.channels_in = model.inputs[0].shape[1], model.inputs[0].shape[-1]
        self.scale = tf.constant(spectrum_scale(self.side))
        jitter, side = settings["jitter"], self.side
        spatial = len(self.read.outputs[0].shape) == 4
        self.box = window(model, layer, settings) if spatial else (0, 0, side, side)
        inside = tf.constant(window_mask(self.box, side))

        def image_of(spectrum):
            complex_spectrum = tf.complex(spectrum[..., 0], spectrum[..., 1]) * tf.cast(self.scale, tf.complex64)
            planes = tf.signal.irfft2d(complex_spectrum, fft_length=[side, side])  # (B, channels, side, side)
            return 0.5 + inside * (tf.sigmoid(tf.transpose(planes, [0, 2, 3, 1])) - 0.5)

        def objective(images, targets):
            values = self.read(images, training=False)
            own = tf.gather(values, targets, axis=-1, batch_dims=1)  # (B, ...) each image's own channel
            if not spatial:
                return own
            if settings["objective"] == "centre":
                return own[:, values.shape[1] // 2, values.shape[2] // 2]
            return tf.reduce_mean(own, axis=[1, 2])

        def step(spectrum, targets, offset):
            with tf.GradientTape() as tape:
                tape.watch(spectrum)
                images = image_of(spectrum)
                if jitter:
                    padded = tf.pad(images, [[0, 0], [jitter, jitter], [jitter, jitter], [0, 0]], mode="REFLECT")
                    images = tf.slice(padded, tf.concat([[0], offset, [0]], 0), [-1, side, side, -1])
                found = objective(images, targets)
                total = tf.reduce_sum(found)
            return found, tape.gradient(total, spectrum)

        spec = tf.TensorSpec([None, self.channels_in, side, side // 2 + 1, 2], tf.float32)
        targets_spec = tf.TensorSpec([None], tf.int32)
        self.step = tf.function(step, input_signature=[spec, targets_spec, tf.TensorSpec([2], tf.int32)],
                                autograph=False)
        self.image, self.objective = image_of, objective

    def channels(self):
        return self.read.outputs[0].shape[-1]

    def run(self, rng):
        """(images (channels, side, side, input channels) float32, NaN where constant; the objective
        each reached; constant (channels,) bool) for every channel of the layer."""
        count, settings = self.channels(), self.settings
        start = start_spectrum(rng, count, self.side, self.channels_in)
        offsets = rng.integers(0, 2 * settings["jitter"] + 1, (settings["steps"], 2)).astype(np.int32)
        images, reached, moved = [], [], []
        for first in range(0, count, CHANNELS_AT_ONCE):
            targets = np.arange(first, min(first + CHANNELS_AT_ONCE, count), dtype=np.int32)
            spectrum, grown = ascend(lambda s, k: self.step(s, targets, offsets[k]), start[targets],
                                     settings["steps"], settings["learning_rate"], settings["decay"])
            image = self.image(spectrum).numpy()
            reached.append(self.objective(image, targets).numpy())
            images.append(image)
            moved.append(grown)
        constant = ~np.concatenate(moved)
        images = np.concatenate(images)
        images[constant] = np.nan
        return images.astype(np.float32), np.concatenate(reached).astype(np.float32), constant


def ascend(gradient_step, spectrum, steps, learning_rate, decay):
    """Gradient ascent from `spectrum`, each image's step its gradient scaled to a root mean square
    of `learning_rate` (so the decorrelated coordinates keep their relative rates, as a per-coordinate
    scaling like Adam's would not); `gradient_step(spectrum, k)` -> (objective, gradient). Returns the
    spectrum and, per image, whether any step had a gradient. Every step also shrinks the spectrum
    by the share `decay` (an L2 penalty): what the objective does not ask for fades to grey."""
    moved = np.zeros(len(spectrum), bool)
    axes = tuple(range(1, spectrum.ndim))
    for k in range(steps):
        _, gradient = gradient_step(spectrum, k)
        gradient = gradient.numpy()
        size = np.sqrt(np.mean(np.square(gradient, dtype=np.float64), axis=axes, keepdims=True))
        moved |= size.reshape(-1) > 0
        step = np.divide(gradient, size, out=np.zeros_like(gradient, np.float64), where=size > 0)
        spectrum = ((1 - decay) * spectrum + learning_rate * step).astype(np.float32)
    return spectrum, moved


def window(model, layer, settings):
    """(top, left, bottom, right): the pixels the `centre` objective's position of a spatial `layer`
    sees, widened by the jitter and clipped to the image; the whole image for the `mean` objective
    or where the layer has no receptive field (lib.fields)."""
    side = model.inputs[0].shape[1]
    rows, cols = model.get_layer(layer).output.shape[1:3]
    field = receptive_field(model, layer) if settings["objective"] == "centre" else None
    top, left, bottom, right = box(field, rows // 2, cols // 2, side)
    jitter = settings["jitter"]
    return max(top - jitter, 0), max(left - jitter, 0), min(bottom + jitter, side), min(right + jitter, side)


def window_mask(box, side):
    """(1, side, side, 1) float32: 1 inside `box` (top, left, bottom, right), 0 outside."""
    top, left, bottom, right = box
    inside = np.zeros((1, side, side, 1), np.float32)
    inside[:, top:bottom, left:right] = 1
    return inside


def visualize(model, layers, settings):
    """{layer: (images, reached, constant, box)} for `layers` of a float32 model, each on its own
    stream; `box` the window outside which the images are grey."""
    found = {}
    for layer in layers:
        visualizer = Visualizer(model, layer, settings)
        found[layer] = (*visualizer.run(named_stream(settings["seed"], layer)), visualizer.box)
    return found


def feature_files(drawn, card):
    """visualize's result as the examples file's arrays ("<layer>/<what>": image, objective,
    constant), each layer's facts added to `card` {layer: entry} (its constant channels and window)."""
    arrays = {}
    for layer, (pictures, reached, constant, drawn_in) in drawn.items():
        arrays.update(members_of(layer, {"image": pictures, "objective": reached, "constant": constant}))
        card.setdefault(layer, {"channels": len(pictures)}).update(
            features_constant=np.flatnonzero(constant).tolist(), features_box=list(drawn_in))
    return arrays
