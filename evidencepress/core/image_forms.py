"""The image upload form: a damaged image file is refused with a message, not a server error.

Wagtail's image field opens an upload with Willow and, to count its pixels, decodes it with
Pillow. A file whose header is sound but whose data is cut short or corrupt (a failed copy, a
half-downloaded case photograph) made that decoding raise, and every upload screen (add, add
several, the chooser's upload tab) answered 500. `WAGTAILIMAGES_IMAGE_FORM_BASE` names the form
below, which gives those screens a field that turns the decoder's errors into a form error.
"""

from __future__ import annotations

import struct
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError
from PIL import ImageFile
from wagtail.images.fields import WagtailImageField
from wagtail.images.forms import BaseImageForm

# What Pillow raises on damaged data: OSError ("image file is truncated", "broken data stream"),
# SyntaxError (a malformed PNG chunk), ValueError, EOFError, and struct/zlib errors from inside
# its readers (seen by fuzzing: tests/core/test_image_upload.py).
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error)

DAMAGED = (
    "This image file is damaged or incomplete: it could not be read. "
    "Save or export it again and upload the new copy."
)


_strict_lock = threading.Lock()


@contextmanager
def _truncated_images_refused() -> Iterator[None]:
    """Pillow refuses truncated data while the upload is checked.

    WeasyPrint sets Pillow's process-wide `ImageFile.LOAD_TRUNCATED_IMAGES = True` when it is
    imported (weasyprint/images.py), so once a process had made a PDF, a torn upload was decoded
    as far as it went and taken. The flag is Pillow's only switch; it is set back afterwards.
    """
    with _strict_lock:
        before = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = before


class IntactImageField(WagtailImageField):
    """Wagtail's image field, refusing a file Pillow cannot decode with a form error."""

    def check_image_pixel_size(self, f: Any) -> None:
        try:
            with _truncated_images_refused():
                super().check_image_pixel_size(f)
        except DECODE_ERRORS as error:
            raise ValidationError(DAMAGED, code="damaged_image") from error


class ImageForm(BaseImageForm):
    """Every image upload screen's form (WAGTAILIMAGES_IMAGE_FORM_BASE)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        given = self.fields.get("file")
        if isinstance(given, WagtailImageField) and not isinstance(given, IntactImageField):
            # Wagtail builds the field itself (its formfield callback); the same field, checked.
            field = IntactImageField(
                label=given.label, required=given.required, widget=given.widget
            )
            field.help_text = given.help_text
            self.fields["file"] = field
