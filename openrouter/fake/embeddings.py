"""``POST /embeddings`` of the double, in OpenAI's shape.

Vectors are deterministic: the model's full-length vector comes from a hash of the
model and the input, unit length; ``dimensions`` keeps its first values, made unit
length again (as OpenAI's shortened embeddings are), so a shortened vector points where
the full one does. ``encoding_format: "base64"`` answers little-endian float32 bytes.
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
import time
from typing import TYPE_CHECKING, Any

from . import media
from .replies import BadRequest, Reply, json_reply, lookup, require_object

if TYPE_CHECKING:
    from .handler import Handler

MAX_INPUTS = 2048


def embeddings(req: Handler, body: Any) -> Reply:
    body = require_object(body)
    model_id, model = lookup(body.get("model"), "embedding")
    if not model.is_embedding:
        raise BadRequest(f"{model_id} is not an embedding model.")
    inputs = _inputs(body.get("input"))
    size = model.dimensions or 8
    dimensions = body.get("dimensions")
    if dimensions is not None:
        if not model.custom_dimensions:
            raise BadRequest(f"{model_id} does not support specifying dimensions.")
        if isinstance(dimensions, bool) or not isinstance(dimensions, int) or not 1 <= dimensions <= size:
            raise BadRequest(f"dimensions must be an integer from 1 to {size} for {model_id}.")
        size = dimensions
    encoding = body.get("encoding_format", "float")
    if encoding not in ("float", "base64"):
        raise BadRequest("encoding_format must be float or base64.")
    data = []
    for index, item in enumerate(inputs):
        vector = vector_for(model_id, item, full=model.dimensions or 8, size=size)
        embedding: Any = vector
        if encoding == "base64":
            embedding = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    tokens = sum(len(item) if isinstance(item, list) else media.count_tokens(item) for item in inputs)
    cost = round(tokens * model.price("prompt"), 12)
    req.fake.add_cost(cost)
    return json_reply(
        200,
        {
            "id": f"gen-emb-{int(time.time() * 1000)}",
            "object": "list",
            "data": data,
            "model": model_id,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens, "cost": cost},
        },
    )


def _inputs(value: Any) -> list:
    """The inputs as a list: strings, or token lists (lists of integers)."""
    if isinstance(value, str):
        value = [value]
    elif isinstance(value, list) and value and all(isinstance(t, int) and not isinstance(t, bool) for t in value):
        value = [value]  # one input given as tokens
    if not isinstance(value, list) or not value:
        raise BadRequest("input must be a non-empty string or a non-empty list of them.")
    if len(value) > MAX_INPUTS:
        raise BadRequest(f"input may hold at most {MAX_INPUTS} items.")
    for index, item in enumerate(value):
        if isinstance(item, str):
            if not item:
                raise BadRequest(f"input[{index}] is empty.")
        elif not (isinstance(item, list) and item and all(isinstance(t, int) for t in item)):
            raise BadRequest(f"input[{index}] must be a string or a list of token integers.")
    return value


def vector_for(model_id: str, item: Any, *, full: int, size: int) -> list[float]:
    """The unit vector of ``item``: the model's full vector, its first ``size`` values
    made unit length again."""
    seed = f"{model_id}\n{item}".encode()
    values: list[float] = []
    counter = 0
    while len(values) < full:
        block = hashlib.sha256(seed + counter.to_bytes(4, "little")).digest()
        values.extend(v / 2**31 - 1.0 for v in struct.unpack("<8I", block))
        counter += 1
    kept = values[:size]
    norm = math.sqrt(sum(v * v for v in kept)) or 1.0
    # Rounded through float32, so the float and base64 answers hold the same numbers.
    return [struct.unpack("<f", struct.pack("<f", v / norm))[0] for v in kept]
