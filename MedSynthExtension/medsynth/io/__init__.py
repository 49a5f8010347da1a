"""Reading and writing medical images (SimpleITK) and other files, atomically."""

from medsynth.io.atomic import atomic_path, write_bytes_atomic, write_text_atomic
from medsynth.io.images import IMAGE_SUFFIXES, is_image_path, read_image, write_image

__all__ = [
    "IMAGE_SUFFIXES",
    "atomic_path",
    "is_image_path",
    "read_image",
    "write_bytes_atomic",
    "write_image",
    "write_text_atomic",
]
