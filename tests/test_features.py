"""The 27-filter DCT feature space, AdaIN and the Gram style distance."""
from __future__ import annotations

import numpy as np
import pytest

from normviz.images import features as F
from normviz.images import load as images


@pytest.fixture(scope="module")
def sample_batch():
    """All bundled samples at 48×48 (small: the claims hold at any size)."""
    return images.to_nchw([images.square_crop_resize(v, 48) for v in images.samples().values()])


def test_filters_are_orthonormal():
    f = F.filters().reshape(27, 27)
    np.testing.assert_allclose(f @ f.T, np.eye(27), atol=1e-12)
    assert len(set(F.filter_labels())) == 27


def test_encode_is_correlation_with_reflect_padding():
    rng = np.random.default_rng(1)
    x = rng.random((2, 3, 6, 5))
    z = F.encode(x)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="reflect")
    for h, w in [(0, 0), (2, 3), (5, 4)]:
        brute = np.einsum("kcij,ncij->nk", F.filters(), xp[:, :, h:h + 3, w:w + 3])
        np.testing.assert_allclose(z[:, :, h, w], brute, atol=1e-12)


def test_filter_bank_reconstructs_every_sample(sample_batch):
    z = F.encode(sample_batch)
    assert z.shape == (6, 27, 48, 48)
    assert np.abs(F.decode(z) - sample_batch).max() < 1e-6
    # float32 too
    x32 = sample_batch.astype(np.float32)
    assert np.abs(F.decode(F.encode(x32)) - x32).max() < 1e-6


@pytest.mark.parametrize("h,w", [(2, 2), (3, 7), (9, 2)])
def test_reconstruction_on_small_shapes(h, w):
    x = np.random.default_rng(h * w).random((1, 3, h, w))
    assert np.abs(F.decode(F.encode(x)) - x).max() < 1e-12


def test_too_small_for_patches_is_explained():
    with pytest.raises(ValueError, match="H, W ≥ 2"):
        F.encode(np.zeros((1, 3, 1, 5)))
    with pytest.raises(ValueError, match="N×3×H×W"):
        F.encode(np.zeros((1, 4, 5, 5)))


def test_dc_channel_is_scaled_local_mean():
    x = np.full((1, 3, 5, 5), 0.4)
    z = F.encode(x)
    np.testing.assert_allclose(z[0, 0], 0.4 * np.sqrt(27))
    np.testing.assert_allclose(z[0, 1:], 0.0, atol=1e-12)


def test_adain_alpha_zero_returns_content(sample_batch):
    z = F.encode(sample_batch)
    out = F.adain(z[:1], z[1:2], 0.0)
    assert np.abs(F.decode(out) - sample_batch[:1]).max() < 1e-6


@pytest.mark.parametrize("content,style", [(0, 1), (1, 0), (2, 3), (3, 4), (5, 0)])
def test_adain_alpha_one_matches_style_statistics(sample_batch, content, style):
    z = F.encode(sample_batch)
    out = F.adain(z[content:content + 1], z[style:style + 1], 1.0, eps=0.0)
    mu_o, sd_o = F.channel_stats(out)
    mu_s, sd_s = F.channel_stats(z[style:style + 1])
    mu_c, sd_c = F.channel_stats(z[content:content + 1])
    live = sd_c > 1e-12  # a constant content channel (e.g. the gradient's blue) cannot be scaled
    np.testing.assert_allclose(mu_o, mu_s, atol=1e-6)
    np.testing.assert_allclose(sd_o[live], sd_s[live], atol=1e-6)


def test_adain_with_eps_follows_the_predicted_shrink(sample_batch):
    z = F.encode(sample_batch)
    eps = 1e-5
    out = F.adain(z[:1], z[1:2], 1.0, eps=eps)
    _, sd_o = F.channel_stats(out)
    _, sd_s = F.channel_stats(z[1:2])
    _, sd_c = F.channel_stats(z[:1])
    np.testing.assert_allclose(sd_o, sd_s * sd_c / np.sqrt(sd_c ** 2 + eps), atol=1e-9)


def test_adain_two_styles_blend_statistics(sample_batch):
    z = F.encode(sample_batch)
    out = F.adain(z[:1], z[1:2], 1.0, eps=0.0, style2=z[3:4], weight2=0.25)
    mu_o, _ = F.channel_stats(out)
    expected = 0.75 * F.channel_stats(z[1:2])[0] + 0.25 * F.channel_stats(z[3:4])[0]
    np.testing.assert_allclose(mu_o, expected, atol=1e-9)
    with pytest.raises(ValueError, match="alpha must lie in"):
        F.adain(z[:1], z[1:2], 1.5)


def test_gram_distance_properties(sample_batch):
    z = F.encode(sample_batch)
    assert F.gram_distance(z[0], z[0]) == 0.0
    d = F.gram_distance(z[0], z[3])
    assert d > 0
    assert F.gram_distance(z[0], z[3]) == pytest.approx(F.gram_distance(z[3], z[0]))
    # dimensionless: scaling both images alike leaves it unchanged ...
    assert F.gram_distance(7 * z[0], 7 * z[3]) == pytest.approx(d)
    # ... but it is not blind to one image being scaled: G grows 100×
    assert F.gram_distance(z[0], 10 * z[0]) == pytest.approx(9.9)
