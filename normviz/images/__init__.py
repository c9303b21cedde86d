"""Images: loading uploads (``load``), the invertible DCT feature space and AdaIN (``features``),
the image lab's computations (``lab``) and figures (``figures``).

``from normviz.images import load_image, ImageError`` is the public API (design.md §3).
"""
from normviz.images.load import (  # noqa: F401
    ImageError,
    ImageInfo,
    load_image,
    load_image_info,
    samples,
)
