"""The images boxes are made of, by name.

Only `host` exists for now (sandbox.HOST: read-only parts of this machine's /usr and /etc).
Built and imported images arrive with the image store (`judge images`); they will be looked
up here too, so that every command takes the same `--image NAME` and fails the same way.
"""

from __future__ import annotations

import sandbox
from sandbox import Image

from .errors import UnknownImage

DEFAULT = "host"
_IMAGES: dict[str, Image] = {sandbox.HOST.name: sandbox.HOST}


def names() -> list[str]:
    return sorted(_IMAGES)


def get(name: str) -> Image:
    """The image called `name`; raises UnknownImage naming the ones that exist."""
    try:
        return _IMAGES[name]
    except KeyError:
        raise UnknownImage(
            f"no image named {name!r}; images here: {', '.join(names())} "
            "(building and importing images comes with `judge images`)"
        ) from None
