"""Smoke test on the real CIFAR-10 mirror in ../shared/cifar10/ (skipped where it is absent)."""

import numpy as np
import pytest

from conftest import ROOT, default_params
from lib.cifar import CLASSES, read_archive
from lib.params import validate
from lib.subjects import gather
from lib.store import md5_of
from lib.subsets import carve, summary

MIRROR = ROOT.parent / "shared" / "cifar10" / "cifar-10-binary.tar.gz"
MIRROR_MD5 = "40eb903e36b61c6442a61a8bdb82f3d0"

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not MIRROR.is_file(), reason=f"no CIFAR-10 mirror at {MIRROR}"),
]


@pytest.fixture(scope="module")
def cifar():
    return read_archive(MIRROR)


def test_mirror_checksum_is_the_documented_one():
    assert md5_of(MIRROR) == MIRROR_MD5


def test_mirror_has_50000_train_and_10000_test_images_and_image_0_is_a_frog(cifar):
    assert cifar.train.images.shape == (50_000, 32, 32, 3)
    assert cifar.test.images.shape == (10_000, 32, 32, 3)
    assert np.bincount(cifar.train.labels).tolist() == [5000] * 10
    assert np.bincount(cifar.test.labels).tolist() == [1000] * 10
    assert CLASSES[cifar.train.labels[0]] == "frog"
    pixels = cifar.train.images[0] / 255
    assert 0.2 < pixels.mean() < 0.6  # the article's fig. 7: roughly symmetric around 0.4


def test_default_params_carve_the_reference_subsets(cifar):
    params = validate(default_params())
    facts = summary(carve(cifar.train.labels, cifar.test.labels, params), cifar.train.labels, cifar.test.labels,
                    gather(params["subjects"], cifar))
    assert facts["subjects"] == {"frog": "frog"} and facts["held_out"] == [0]
    assert facts["pool_size"] == 49_999
    assert facts["subsets"]["dummy"]["per_class"] == {name: 1000 for name in CLASSES}
    assert facts["subsets"]["benchmark"]["size"] == 49_999
    assert facts["subsets"]["benchmark"]["per_class"]["frog"] == 4999
    assert (facts["val_size"], facts["test_size"], facts["probe_size"]) == (5000, 5000, 1000)
    assert facts["probe_per_class"] == {name: 100 for name in CLASSES}
