"""Reference implementations the library's measures are tested against: each the plain, one-image
(or one-pair) form of the definition, written for clarity, not speed."""

import numpy as np

from lib.measures import centered_gram, cka_of_grams


def entropy_bits(counts):
    """Shannon entropy, in bits, of the distribution proportional to `counts` (0 log 0 = 0)."""
    counts = np.asarray(counts, dtype=np.float64)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum()) + 0.0


def zero_fraction(values):
    """The share of exact zeros."""
    values = np.ravel(values)
    return float(np.count_nonzero(values == 0) / values.size)


def channel_corr(activation):
    """Mean absolute Pearson correlation between the channels of one image's (H, W, C) map,
    over spatial positions; channels constant over the map (e.g. dead) are left out.
    None where fewer than two channels vary or the layer has no spatial positions."""
    if activation.ndim != 3:
        return None
    flat = activation.reshape(-1, activation.shape[-1]).astype(np.float64)
    flat = flat[:, flat.std(axis=0) > 0]
    if flat.shape[1] < 2 or flat.shape[0] < 2:
        return None
    corr = np.corrcoef(flat, rowvar=False)
    off_diagonal = corr[~np.eye(len(corr), dtype=bool)]
    return float(np.abs(off_diagonal).mean())


def input_corr(activation, image):
    """Mean absolute Pearson correlation between each channel of one image's (H, W, C) map and the
    input image (H0, W0, C0), channels averaged, average-pooled to (H, W): how much of the picture
    the layer still shows. Channels constant over the map are left out; None without spatial
    positions or varying channels."""
    if activation.ndim != 3 or image.shape[0] % activation.shape[0] or image.shape[1] % activation.shape[1]:
        return None
    h, w, channels = activation.shape
    step = image.shape[0] // h
    pooled = image.mean(axis=-1).reshape(h, step, w, step).mean(axis=(1, 3)).ravel().astype(np.float64)
    maps = activation.reshape(-1, channels).astype(np.float64)
    maps = maps[:, maps.std(axis=0) > 0]
    if maps.shape[1] == 0 or pooled.std() == 0:
        return None
    maps = (maps - maps.mean(axis=0)) / maps.std(axis=0)
    pooled = (pooled - pooled.mean()) / pooled.std()
    return float(np.abs(pooled @ maps / len(pooled)).mean())


def linear_cka(x, y):
    """Linear CKA between two representations of the same n images, rows = images (the library's
    debiased estimator, lib.measures.cka_of_grams)."""
    if len(x) != len(y):
        raise ValueError("CKA compares representations of the same images")
    return cka_of_grams(centered_gram(x), centered_gram(y))
