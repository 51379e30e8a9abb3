"""The double's image-only and video endpoints: ``POST /images``, hosted ``/files/``,
``POST /videos``, ``GET /videos/{id}`` and ``GET /videos/{id}/content``."""

from __future__ import annotations

import base64
import time
from typing import TYPE_CHECKING, Any

from . import catalogue, media
from .faults import JOB_FAULTS
from .replies import (
    BadRequest,
    Reply,
    check_frame,
    check_listed,
    data_url_bytes,
    error_reply,
    json_reply,
    lookup,
    require_object,
)

if TYPE_CHECKING:
    from .handler import Handler


def images(req: Handler, body: Any) -> Reply:
    body = require_object(body)
    model_id, model = lookup(body.get("model"), "image")
    if not model.is_image:
        raise BadRequest(f"{model_id} does not generate images.")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise BadRequest("prompt is required.")
    n = body.get("n", 1)
    size, aspect_ratio, resolution = body.get("size"), body.get("aspect_ratio"), body.get("resolution")
    if size and aspect_ratio:
        raise BadRequest("size and aspect_ratio cannot be combined; send one of them.")
    if not isinstance(n, int) or isinstance(n, bool) or n < 1 or (model.max_n and n > model.max_n):
        raise BadRequest(f"n must be between 1 and {model.max_n or 1} for {model_id}.")
    check_listed(model_id, "size", size, model.sizes, refuse_unlisted=bool(model.aspect_ratios))
    check_listed(model_id, "aspect_ratio", aspect_ratio, model.aspect_ratios, refuse_unlisted=bool(model.sizes))
    check_listed(model_id, "resolution", resolution, model.image_sizes)
    width, height = media.images_endpoint_dimensions(size, aspect_ratio, resolution)
    references = _references(model_id, model, body.get("input_references"))
    items = []
    for index in range(n):
        if references:
            # An edit: the first reference, visibly changed (the others only steer it).
            png = media.edited_png_bytes(references[0], prompt, (width, height) if size or aspect_ratio else None)
        else:
            png = media.png_bytes(width, height, prompt, index)
        if model.returns_urls:
            items.append({"url": f"{req.site_base()}/files/{req.fake.store_file(png, 'image/png')}"})
        else:
            items.append({"b64_json": base64.b64encode(png).decode("ascii"), "media_type": "image/png"})
    cost = round(n * model.price("image"), 10)
    req.fake.add_cost(cost)
    prompt_tokens = media.count_tokens(prompt)
    return json_reply(
        200,
        {
            "created": int(time.time()),
            "data": items,
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": 0,
                "total_tokens": prompt_tokens,
                "cost": cost,
            },
        },
    )


MAX_REFERENCES = 16


def _references(model_id: str, model: catalogue.FakeModel, value: Any) -> list[bytes]:
    """The bytes of ``input_references`` (data URLs, or ``{"image_url": {"url"}}`` items)."""
    if value is None:
        return []
    if not isinstance(value, list) or not value or len(value) > MAX_REFERENCES:
        raise BadRequest(f"input_references must be a list of 1 to {MAX_REFERENCES} image URLs.")
    if "image" not in model.inputs:
        raise BadRequest(f"{model_id} does not take image input (input_references).")
    found = []
    for item in value:
        url = item
        if isinstance(item, dict):
            inner = item.get("image_url")
            url = inner.get("url") if isinstance(inner, dict) else inner
        if not isinstance(url, str):
            raise BadRequest("input_references items must be image URLs or {image_url: {url}}.")
        data = data_url_bytes(url)
        try:
            media.image_size_of(data)
        except OSError as exc:
            raise BadRequest("input_references holds something that is not an image.") from exc
        found.append(data)
    return found


def hosted_file(req: Handler, name: str) -> Reply:
    stored = req.fake.files.get(name)
    if stored is None:
        return error_reply(404, "File not found.")
    return Reply(200, stored[0], content_type=stored[1])


def video_submit(req: Handler, body: Any, fault: str | None) -> Reply:
    body = require_object(body)
    model_id, model = lookup(body.get("model"), "video")
    if not model.is_video:
        raise BadRequest(f"{model_id} is not a video model.")
    if not isinstance(body.get("prompt"), str) or not body["prompt"].strip():
        raise BadRequest("prompt is required.")
    check_listed(model_id, "aspect_ratio", body.get("aspect_ratio"), model.aspect_ratios)
    check_listed(model_id, "resolution", body.get("resolution"), model.resolutions)
    check_listed(model_id, "size", body.get("size"), model.sizes)
    check_listed(model_id, "duration", body.get("duration"), model.durations)
    for frame in body.get("frame_images") or []:
        check_frame(model_id, model, frame)
    job = req.fake.new_job(model_id, fault if fault in JOB_FAULTS else None, body)
    return json_reply(202, {"id": job.id, "polling_url": f"{req.api_base()}/videos/{job.id}", "status": "pending"})


def video_poll(req: Handler, job_id: str) -> Reply:
    job = req.fake.jobs.get(job_id)
    if job is None:
        return error_reply(404, f"Video job {job_id} not found.")
    status, progress = req.fake.job_state(job)
    payload: dict[str, Any] = {"id": job.id, "generation_id": f"gen-{job.id}", "status": status, "progress": progress}
    if status == "completed":
        if job.fault != "no_urls":
            payload["unsigned_urls"] = [f"{req.api_base()}/videos/{job.id}/content?index=0"]
        seconds = job.body.get("duration") or 4
        model = catalogue.BY_ID.get(job.model, catalogue.PERMISSIVE["video"])
        payload["usage"] = {"cost": round(seconds * model.price("video_per_second"), 6)}
    elif status == "failed":
        # An object here and a string for expired jobs: clients must read both shapes.
        payload["error"] = {"code": "generation_failed", "message": "The fake provider failed to generate this video."}
    elif status == "expired":
        payload["error"] = "The video job expired before it was collected."
    return json_reply(200, payload)


def video_content(req: Handler, job_id: str, query: dict) -> Reply:
    job = req.fake.jobs.get(job_id)
    if job is None:
        return error_reply(404, f"Video job {job_id} not found.")
    if req.fake.job_state(job)[0] != "completed":
        return error_reply(404, f"Video job {job_id} has no content yet.")
    if (query.get("index") or ["0"])[0] != "0":
        return error_reply(404, "No video at this index.")
    return Reply(200, media.sample_video_bytes(), content_type="video/mp4")
