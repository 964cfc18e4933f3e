"""Pictures: a region marked on a photo (a detection's box on a camera's snapshot)."""

from __future__ import annotations

from collections.abc import Sequence

BOX_COLOUR = (0, 0, 255)  # red, in OpenCV's BGR order


def content_type_of(image: bytes) -> str:
    return "image/png" if image.startswith(b"\x89PNG") else "image/jpeg"


def draw_box(image: bytes, box: Sequence[float] | None) -> tuple[bytes, str]:
    """The image as a JPEG with the box (normalised x1, y1, x2, y2) drawn in red; the image
    unchanged (and its type) when it cannot be decoded or there is no box.

    Decoding and encoding a 720p JPEG takes about 10 ms, mostly outside the interpreter
    lock: done when a picture is shown, not for every one taken in.
    """
    import cv2
    import numpy as np

    if box is None:
        return image, content_type_of(image)
    frame = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR)
    if frame is None:
        return image, content_type_of(image)
    h, w = frame.shape[:2]
    x1, y1, x2, y2 = (round(v * s) for v, s in zip(box, (w, h, w, h), strict=True))
    cv2.rectangle(frame, (x1, y1), (x2, y2), BOX_COLOUR, max(2, w // 320))
    ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return (bytes(encoded), "image/jpeg") if ok else (image, content_type_of(image))
