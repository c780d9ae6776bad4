import numpy as np
import pytest

from lib.measures import js_bits, layer_histogram, shared_edges
from lib.stats import bootstrap_ci, defined_mean, defined_means, paired_bootstrap_ci
from reference import channel_corr, entropy_bits, input_corr, linear_cka, zero_fraction

rng = np.random.default_rng(0)


@pytest.mark.parametrize("bins", [2, 10, 64])
def test_entropy_of_a_uniform_histogram_is_log2_bins(bins):
    assert entropy_bits(np.full(bins, 7)) == pytest.approx(np.log2(bins))


def test_entropy_of_a_spike_is_zero_and_empty_bins_do_not_count():
    assert entropy_bits([0, 0, 12, 0]) == 0
    assert entropy_bits([5, 0, 5, 0]) == pytest.approx(1.0)


def test_zeros_get_their_own_bin():
    values = np.array([0, 0, 0, 0, 0.25, 0.75])
    edges = np.linspace(0, 1, 3)
    counts = layer_histogram(values, edges)
    assert counts.tolist() == [4, 1, 1]
    assert entropy_bits(counts) == pytest.approx(-(4 / 6 * np.log2(4 / 6) + 2 * (1 / 6) * np.log2(1 / 6)))


def test_values_at_the_edges_are_counted():
    edges = np.linspace(1, 2, 5)
    assert layer_histogram(np.array([1.0, 2.0]), edges).sum() == 2


def test_zero_fraction_of_a_relu_output():
    x = rng.normal(size=100_000)
    assert zero_fraction(np.maximum(x, 0)) == pytest.approx(0.5, abs=0.01)
    assert zero_fraction(np.array([0.0, 1.0, 0.0, 3.0])) == 0.5


def test_shared_edges_span_every_model_and_ignore_zeros():
    a, b = np.array([0.0, 1.0, 2.0]), np.array([0.0, 0.5, 4.0])
    edges = shared_edges([a, b], 8)
    assert edges[0] == 0.5 and edges[-1] == 4.0 and len(edges) == 9
    ha, hb = layer_histogram(a, edges), layer_histogram(b, edges)
    assert ha.sum() == 3 and hb.sum() == 3 and len(ha) == len(hb) == 9


def test_shared_edges_when_everything_is_zero_or_constant():
    assert len(shared_edges([np.zeros(5)], 4)) == 5
    edges = shared_edges([np.full(5, 3.0)], 4)
    assert edges[0] < 3 < edges[-1]


def test_jensen_shannon():
    p = np.array([1, 2, 3, 4])
    assert js_bits(p, p) == 0
    assert js_bits(p, 10 * p) == pytest.approx(0, abs=1e-12)
    assert js_bits([1, 0], [0, 1]) == pytest.approx(1.0)
    q = rng.integers(0, 10, 20)
    r = rng.integers(0, 10, 20)
    assert 0 < js_bits(q, r) <= 1
    assert js_bits(q, r) == pytest.approx(js_bits(r, q))


def test_channel_correlation():
    base = rng.normal(size=(8, 8, 1))
    copies = np.concatenate([base, 2 * base + 1, -base], axis=-1)
    assert channel_corr(copies) == pytest.approx(1.0)
    independent = rng.normal(size=(64, 64, 4))
    assert channel_corr(independent) < 0.05
    with_dead = np.concatenate([copies, np.zeros((8, 8, 2))], axis=-1)
    assert channel_corr(with_dead) == pytest.approx(1.0)
    assert channel_corr(np.zeros((8, 8, 3))) is None
    assert channel_corr(rng.normal(size=10)) is None


def test_cka_of_a_representation_with_itself_is_one():
    x = rng.normal(size=(50, 30))
    assert linear_cka(x, x) == pytest.approx(1.0)


def test_cka_is_invariant_to_isotropic_scaling_and_rotation():
    x = rng.normal(size=(60, 20))
    y = x @ rng.normal(size=(20, 15)) + 0.5 * rng.normal(size=(60, 15))
    rotation, _ = np.linalg.qr(rng.normal(size=(20, 20)))
    base = linear_cka(x, y)
    assert linear_cka(3.7 * x, y) == pytest.approx(base)
    assert linear_cka(x @ rotation, y) == pytest.approx(base)
    assert 0.2 < base < 1


def test_cka_of_unrelated_wide_representations_is_near_zero():
    x, y = rng.normal(size=(100, 2000)), rng.normal(size=(100, 2000))
    assert abs(linear_cka(x, y)) < 0.05


def test_cka_takes_maps_of_any_shape_and_refuses_mismatched_images():
    maps = rng.normal(size=(10, 4, 4, 3))
    assert linear_cka(maps, maps.reshape(10, -1)) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        linear_cka(maps, maps[:9])


def test_bootstrap_interval_contains_the_mean_and_narrows_with_more_data():
    small, large = rng.normal(size=20), rng.normal(size=2000)
    mean, low, high = bootstrap_ci(small, np.random.default_rng(1))
    assert low <= mean <= high
    _, low2, high2 = bootstrap_ci(large, np.random.default_rng(1))
    assert high2 - low2 < high - low
    assert bootstrap_ci(np.array([2.0, np.nan, 2.0]), np.random.default_rng(1)) == (2.0, 2.0, 2.0)


def test_input_correlation_of_maps_that_copy_or_ignore_the_picture():
    image = rng.random((32, 32, 1))
    copies = np.concatenate([image, 2 * image + 1, -image], axis=-1)
    assert input_corr(copies, image) == pytest.approx(1.0)
    pooled = image[..., 0].reshape(16, 2, 16, 2).mean(axis=(1, 3))[..., None]
    assert input_corr(np.concatenate([pooled, pooled], axis=-1), image) == pytest.approx(1.0)
    assert input_corr(rng.normal(size=(32, 32, 8)), image) < 0.1
    assert input_corr(np.zeros((32, 32, 4)), image) is None
    assert input_corr(rng.normal(size=10), image) is None


def test_output_measures_know_their_answers_and_leave_unlabelled_images_undefined():
    from lib.measures import OUTPUT_MEASURES

    probabilities = np.array([[0.1] * 10, [0.0] * 9 + [1.0], [0.5, 0.5] + [0.0] * 8])
    labels = np.array([3, 9, -1])
    assert np.allclose(OUTPUT_MEASURES["softmax_entropy_bits"](probabilities, labels), [np.log2(10), 0, 1])
    accuracy = OUTPUT_MEASURES["accuracy"](probabilities, labels)
    assert accuracy[1] == 1 and accuracy[0] == 0 and np.isnan(accuracy[2])
    p_label = OUTPUT_MEASURES["p_label"](probabilities, labels)
    assert p_label[:2].tolist() == [0.1, 1.0] and np.isnan(p_label[2])


def test_layer_measures_are_per_image_and_agree_with_the_single_image_functions():
    from lib.measures import LAYER_MEASURES, layer_view

    values = np.maximum(rng.normal(size=(3, 8, 8, 4)), 0).astype(np.float32)
    images = rng.random((3, 32, 32, 1)).astype(np.float32)
    view = layer_view(values, images, 10)
    assert np.array_equal(view.edges, shared_edges([values], 10))
    per_image = {name: measure(view) for name, measure in LAYER_MEASURES.items()}
    assert all(v.shape == (3,) for v in per_image.values())
    for i in range(3):
        assert per_image["entropy_scaled_bits"][i] == pytest.approx(entropy_bits(layer_histogram(values[i], view.edges)))
        fixed = np.concatenate([[np.sum(values[i] == 0)], np.bincount(np.floor(values[i][values[i] != 0] * 10).astype(int))])
        assert per_image["entropy_bits"][i] == pytest.approx(entropy_bits(fixed))
        assert per_image["zero_fraction"][i] == zero_fraction(values[i])
        assert per_image["mean"][i] == pytest.approx(values[i].mean(dtype=np.float64))
        assert per_image["channel_corr"][i] == pytest.approx(channel_corr(values[i]))
        assert per_image["input_corr"][i] == pytest.approx(input_corr(values[i], images[i]))


def test_fixed_width_entropy_counts_bins_of_one_width_anywhere_and_zeros_apart():
    from lib.measures import fixed_width_entropy

    width = 0.25
    spread = np.array([[0.1, 0.3, 0.6, 0.9, -0.2, 7.1, 1e9, 0.0]])  # eight values in eight bins, one a zero
    assert fixed_width_entropy(spread, width) == pytest.approx([3.0])
    same_bin = np.array([[0.26, 0.3, 0.49, 0.0]])
    assert fixed_width_entropy(same_bin, width) == pytest.approx([entropy_bits([3, 1])])
    assert fixed_width_entropy(np.zeros((2, 5)), width).tolist() == [0.0, 0.0]


def test_entropy_bits_depends_on_scale_and_the_scaled_entropy_does_not():
    from lib.measures import LAYER_MEASURES, layer_view

    values = np.abs(rng.normal(size=(4, 16, 16, 8))) + 0.01
    images = rng.random((4, 32, 32, 1))
    small, large = layer_view(values, images, 50), layer_view(values * 2, images, 50)
    gained = LAYER_MEASURES["entropy_bits"](large) - LAYER_MEASURES["entropy_bits"](small)
    assert np.all((gained > 0.9) & (gained < 1.02))  # twice as spread out: one more bit
    assert np.allclose(LAYER_MEASURES["entropy_scaled_bits"](large), LAYER_MEASURES["entropy_scaled_bits"](small))


def unbiased_hsic(k, l):
    """HSIC_1 of Song et al. (2012), term by term: zero diagonals, then the three traces."""
    n = len(k)
    k, l = k.copy(), l.copy()
    np.fill_diagonal(k, 0)
    np.fill_diagonal(l, 0)
    ones = np.ones(n)
    return (np.trace(k @ l) + (ones @ k @ ones) * (ones @ l @ ones) / ((n - 1) * (n - 2))
            - 2 / (n - 2) * (ones @ k @ l @ ones)) / (n * (n - 3))


def test_cka_equals_the_unbiased_hsic_formula_term_by_term():
    own = np.random.default_rng(1)  # its own draws: the module's stream depends on which tests ran before
    x, y = own.normal(size=(7, 3)), own.normal(size=(7, 5)) + 0.3
    k, l = x @ x.T, y @ y.T
    expected = unbiased_hsic(k, l) / np.sqrt(unbiased_hsic(k, k) * unbiased_hsic(l, l))
    assert linear_cka(x, y) == pytest.approx(expected, abs=1e-12)
    assert abs(expected) > 0.05  # a value that an estimator with other denominators would miss


def test_cka_of_a_representation_that_does_not_vary_is_undefined():
    x = rng.normal(size=(10, 6))
    constant = np.tile(rng.normal(size=(1, 6)) * 1e3, (10, 1))
    assert np.isnan(linear_cka(constant, x)) and np.isnan(linear_cka(np.zeros((10, 4)), x))
    assert not np.isnan(linear_cka(constant + rng.normal(size=(10, 6)) * 1e-2, x))


def test_jensen_shannon_of_a_known_intermediate_pair():
    assert js_bits([1, 0], [0.5, 0.5]) == pytest.approx(0.311278, abs=1e-6)


def test_bootstrap_interval_of_a_fair_coin_mean_has_the_normal_width():
    values = np.array([0.0, 1.0] * 200)  # mean 0.5, standard error 0.025
    mean, low, high = bootstrap_ci(values, np.random.default_rng(0), resamples=20_000)
    assert mean == 0.5
    assert low == pytest.approx(0.5 - 1.96 * 0.025, abs=0.003) and high == pytest.approx(0.5 + 1.96 * 0.025, abs=0.003)
    assert bootstrap_ci(np.full(9, 2.0), np.random.default_rng(0)) == (2.0, 2.0, 2.0)


def test_paired_bootstrap_of_a_fair_coin_difference_has_the_normal_width():
    coin = np.array([[0.0, 1.0] * 200])  # one seed; the other side is zero: mean 0.5, standard error 0.025
    mean, low, high = paired_bootstrap_ci(coin, np.zeros_like(coin), np.random.default_rng(0), resamples=20_000)
    assert mean == 0.5
    assert low == pytest.approx(0.5 - 1.96 * 0.025, abs=0.003) and high == pytest.approx(0.5 + 1.96 * 0.025, abs=0.003)
    shifted = np.tile(rng.normal(size=50), (3, 1))  # seeds alike: every resample differs by exactly 0.25
    assert paired_bootstrap_ci(shifted + 0.25, shifted, np.random.default_rng(0)) == pytest.approx((0.25,) * 3)


def test_images_agree_but_seeds_disagree_so_the_paired_difference_is_inconclusive():
    images = np.linspace(0, 1, 500)
    a = np.stack([images + 1.0, images - 0.9, images + 1.1])  # seeds: two above b, one far below
    b = np.stack([images] * 3)
    over_images = bootstrap_ci(a.mean(axis=0) - b.mean(axis=0), np.random.default_rng(0))
    assert over_images[1] > 0  # the images alone would call it held
    mean, low, high = paired_bootstrap_ci(a, b, np.random.default_rng(0))
    assert mean == pytest.approx(0.4) and low < 0 < high


def test_a_paired_difference_an_unpaired_comparison_misses_is_found():
    difficulty = rng.normal(0, 1, 400)  # image to image variation shared by both models
    a = np.stack([difficulty + 0.05 + rng.normal(0, 0.01, 400) for _ in range(3)])
    b = np.stack([difficulty + rng.normal(0, 0.01, 400) for _ in range(3)])
    _, a_low, a_high = bootstrap_ci(a.mean(axis=0), np.random.default_rng(0))
    _, b_low, b_high = bootstrap_ci(b.mean(axis=0), np.random.default_rng(0))
    assert a_low < b_high and b_low < a_high  # separate intervals overlap: unpaired, inconclusive
    mean, low, high = paired_bootstrap_ci(a, b, np.random.default_rng(0))
    assert 0.04 < low < mean < high < 0.06


def test_paired_bootstrap_leaves_undefined_images_out():
    a, b = np.array([[1.0, np.nan, 3.0]]), np.array([[0.0, 5.0, np.nan]])
    assert paired_bootstrap_ci(a, b, np.random.default_rng(0)) == (1.0, 1.0, 1.0)
    assert all(np.isnan(paired_bootstrap_ci(a[:, 1:2], b[:, 2:], np.random.default_rng(0))))


def test_mutual_information_with_the_input_of_a_copy_is_the_inputs_entropy_and_of_noise_near_zero():
    from lib.measures import LAYER_MEASURES, LayerView, per_image_bin

    bins = 8
    images = rng.random((3, 32, 32, 1)).astype(np.float32)
    pooled = images.reshape(3, 16, 2, 16, 2, 1).mean(axis=(2, 4))
    copy = np.repeat(pooled + 0.0, 4, axis=-1)  # four channels, each the pooled picture
    edges = np.linspace(0, 1, bins + 1)
    mi = LAYER_MEASURES["input_mi_bits"](LayerView(copy, images, bins, edges))
    pixel = np.clip((pooled.astype(np.float64) * bins).astype(int), 0, bins - 1).reshape(3, -1)
    expected = [entropy_bits(np.bincount(row, minlength=bins)) for row in pixel]
    assert np.allclose(mi, expected, atol=1e-6) and min(mi) > 1.5
    noise = rng.random((3, 16, 16, 64)).astype(np.float32)
    assert np.all(LAYER_MEASURES["input_mi_bits"](LayerView(noise, images, bins, edges)) < 0.25)
    flat = LAYER_MEASURES["input_mi_bits"](LayerView(rng.random((3, 10)), images, bins, edges))
    assert np.isnan(flat).all()
    assert per_image_bin(np.array([[0.0, 0.05, 0.99, 1.0]]), np.linspace(0, 1, 11)).tolist() == [[0, 1, 10, 10]]


def test_means_over_seeds_leave_out_the_undefined_values_cell_by_cell():
    stack = np.array([[[1.0, np.nan], [np.nan, 4.0]], [[3.0, np.nan], [2.0, 6.0]]])
    means = defined_means(stack)
    assert means.shape == (2, 2) and means[0, 0] == 2.0 and np.isnan(means[0, 1]) and means[1, 0] == 2.0
    assert means[1, 1] == 5.0 and defined_mean([np.nan, 1.0, 3.0]) == 2.0
    assert np.isnan(defined_mean([np.nan]))
