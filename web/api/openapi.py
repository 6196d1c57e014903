"""`GET /api/v1/openapi.json`: openapi.yaml, the API's description, served as JSON without a token.

The YAML is read once, on the first request, and shipped as package data (pyproject.toml).
Each answer names the server the request came to, so a client generated from the document
calls the host it fetched it from (behind a proxy, as far as Flask sees the host).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from flask import request

from web.api import blueprint as bp

SPEC_PATH = Path(__file__).with_name("openapi.yaml")


@functools.cache
def document() -> dict[str, Any]:
    """The parsed openapi.yaml; a dict of plain JSON types (the YAML quotes what YAML 1.1 would not keep)."""
    with SPEC_PATH.open(encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    assert isinstance(doc, dict), f"{SPEC_PATH} is not a YAML mapping"
    return doc


@bp.get("/openapi.json")
def get_openapi() -> dict[str, Any]:
    return {**document(), "servers": [{"url": request.host_url.rstrip("/")}]}
