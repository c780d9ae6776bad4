"""The reference CNN: six 3x3 convolutions in three blocks, a per-position dense layer, a softmax.

Keras is imported only where the model is built, so reading LAYERS costs no TensorFlow start-up.
"""

from lib.cifar import CLASSES, SIDE

FILTERS = 16
HIDDEN = 64
DROPOUT = 0.5
LAYERS = ("conv2d_1", "conv2d_2", "pool_1", "conv2d_3", "conv2d_4", "pool_2",
          "conv2d_5", "conv2d_6", "dense_1", "dropout_1", "flatten_1", "dense_2")


def reference_cnn(channels, precision="float32"):
    """The article's architecture (53,818 parameters for one input channel), layers named as there.

    With precision "bfloat16" the hidden layers compute in bfloat16 (weights stay float32);
    the softmax layer always computes in float32.
    """
    import keras
    from keras import layers

    dtype = "float32" if precision == "float32" else f"mixed_{precision}"

    def conv(name):
        return layers.Conv2D(FILTERS, 3, padding="same", activation="relu", name=name, dtype=dtype)

    def pool(name):
        return layers.MaxPooling2D(2, name=name, dtype=dtype)

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
    x = layers.Dropout(DROPOUT, name="dropout_1", dtype=dtype)(x)
    x = layers.Flatten(name="flatten_1", dtype=dtype)(x)
    outputs = layers.Dense(len(CLASSES), activation="softmax", name="dense_2", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="reference_cnn")
