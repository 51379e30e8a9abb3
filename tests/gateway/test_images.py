"""/v1/images/edits as the official SDK sends it, against the app served by uvicorn and
the double; and the signed, expiring URLs /v1/ answers images with."""

import base64
import io
import time

import httpx
import openai
import pytest
from django.urls import reverse
from PIL import Image

from accounts import tokens
from gateway.image_urls import signed_image_path
from generation.models import GeneratedImage, Generation
from tests.factories import GeneratedImageFactory, png_bytes

EDITOR = "google/gemini-2.5-flash-image"  # takes an image, answers with one (chat route)


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    path.write_bytes(png_bytes(40, 30, color=(200, 50, 10)))
    return path


def _inverted(path) -> tuple[int, int, int]:
    pixel = Image.open(path).convert("RGB").getpixel((0, 0))
    assert isinstance(pixel, tuple), pixel  # an RGB image answers a tuple per pixel
    r, g, b = pixel
    return 255 - r, 255 - g, 255 - b


# ------------------------------------------------------------------ edits


def test_an_edit_as_the_sdk_sends_it_keeps_the_upload_and_its_lineage(
    sdk, served, user, photo, fake_openrouter, client
):
    _, key, _ = served
    with open(photo, "rb") as image:
        result = sdk().images.edit(model=EDITOR, image=image, prompt="make it night")
    [item] = result.data
    edited = Image.open(io.BytesIO(base64.b64decode(item.b64_json))).convert("RGB")
    # The double inverts the image it was sent: so the upload reached the provider whole.
    assert edited.getpixel((0, 0)) == _inverted(photo)
    [sent] = fake_openrouter.received.matching("POST", "/api/v1/chat/completions")
    parts = sent.body["messages"][0]["content"]
    assert parts[0] == {"type": "text", "text": "make it night"} and parts[1]["image_url"]["url"].startswith(
        "data:image/png;base64,"
    )
    edit = Generation.objects.exclude(route=Generation.UPLOAD_ROUTE).get()
    assert edit.owner == user and edit.api_key_id == key.pk and edit.status == "completed"
    upload = edit.source_image
    assert upload is not None and upload.generation.route == Generation.UPLOAD_ROUTE
    assert upload.generation.owner == user and upload.read_bytes() == photo.read_bytes()
    # The edit's page shows what it was made from.
    client.force_login(user)
    page = client.get(reverse("generation:detail", args=[edit.pk])).content.decode()
    assert reverse("generation:detail", args=[upload.generation_id]) in page and upload.url in page


def test_an_edit_answers_a_signed_url_that_needs_no_key(sdk, photo):
    with open(photo, "rb") as image:
        result = sdk().images.edit(model=EDITOR, image=image, prompt="blue", response_format="url", n=2)
    assert len(result.data) == 2
    for item in result.data:
        answer = httpx.get(item.url)  # no header at all
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(answer.content)).convert("RGB").getpixel((0, 0)) == _inverted(photo)


def _mask(width: int, height: int) -> bytes:
    """A PNG with an alpha channel, transparent on its left half: where to edit."""
    mask = Image.new("RGBA", (width, height), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (0, 0, width // 2, height))
    buffer = io.BytesIO()
    mask.save(buffer, format="PNG")
    return buffer.getvalue()


def test_several_images_and_a_mask_go_as_input_references(sdk, user, photo, fake_openrouter):
    second = png_bytes(20, 20, color=(0, 255, 0))
    mask = _mask(40, 30)
    with open(photo, "rb") as image:
        result = sdk().images.edit(
            model="openai/gpt-image-1",
            image=[image, ("second.png", second, "image/png")],
            mask=("mask.png", mask, "image/png"),
            prompt="put the green square on the left",
        )
    [item] = result.data
    edited = Image.open(io.BytesIO(base64.b64decode(item.b64_json))).convert("RGB")
    assert edited.size == (40, 30) and edited.getpixel((0, 0)) == _inverted(photo)  # the first image, edited
    [sent] = fake_openrouter.received.matching("POST", "/api/v1/images")
    references = sent.body["input_references"]
    assert [base64.b64decode(url.split(",", 1)[1]) for url in references] == [photo.read_bytes(), second, mask]
    assert sent.body["prompt"].startswith("put the green square on the left")
    assert "The last image is a mask" in sent.body["prompt"]
    edit = Generation.objects.exclude(route=Generation.UPLOAD_ROUTE).get()
    assert edit.route == "images" and edit.owner == user and edit.prompt == "put the green square on the left"
    assert edit.source_image.read_bytes() == photo.read_bytes()  # lineage: the first image
    assert edit.params["reference_images"] == [f"image/png, {len(second)} bytes"]
    assert edit.params["mask"] == f"image/png, {len(mask)} bytes"


def test_several_images_on_the_chat_route_go_as_image_parts(sdk, photo, fake_openrouter):
    second = png_bytes(20, 20, color=(0, 255, 0))
    with open(photo, "rb") as image:
        sdk().images.edit(model=EDITOR, image=[image, ("b.png", second, "image/png")], prompt="combine them")
    [sent] = fake_openrouter.received.matching("POST", "/api/v1/chat/completions")
    parts = sent.body["messages"][0]["content"]
    assert parts[0] == {"type": "text", "text": "combine them"}
    assert [base64.b64decode(p["image_url"]["url"].split(",", 1)[1]) for p in parts[1:]] == [
        photo.read_bytes(),
        second,
    ]


@pytest.mark.parametrize(
    "change, param, says",
    [
        ({"image": "nine"}, "image", "At most 8 images"),
        ({"mask": "small"}, "mask", "size of the image to edit (40x30)"),
        ({"mask": "jpeg"}, "mask", "must be a PNG"),
        ({"model": "openai/dall-e-3"}, "model", "cannot edit images"),
        ({"image": b"not an image"}, "image", "image"),
        ({"n": 9}, "n", ""),
        ({"extra_body": {"quality": "high"}}, "quality", "not supported"),
    ],
)
def test_bad_edits_are_400_naming_the_field(sdk, photo, fake_openrouter, change, param, says):
    ask = {"model": EDITOR, "prompt": "x", "image": photo.read_bytes()}
    if change.get("image") == "nine":
        ask["image"] = [(f"{i}.png", photo.read_bytes(), "image/png") for i in range(9)]
    elif "image" in change:
        ask["image"] = ("x.png", change["image"], "image/png")
    if change.get("mask") == "small":
        ask["mask"] = ("mask.png", _mask(20, 20), "image/png")
    elif change.get("mask") == "jpeg":
        buffer = io.BytesIO()
        Image.new("RGB", (40, 30)).save(buffer, format="JPEG")
        ask["mask"] = ("mask.jpg", buffer.getvalue(), "image/jpeg")
    ask.update({k: v for k, v in change.items() if k not in ("image", "mask")})
    with pytest.raises(openai.BadRequestError) as raised:
        sdk().images.edit(**ask)
    assert raised.value.body["param"] == param and says in raised.value.body["message"]
    assert not Generation.objects.exclude(route=Generation.UPLOAD_ROUTE).exists()
    assert not fake_openrouter.received.matching("POST", "/api/v1/chat/completions")


def test_an_edit_of_an_unknown_model_is_model_not_found(sdk, photo):
    with pytest.raises(openai.NotFoundError) as raised:
        sdk().images.edit(model="nobody/nothing", image=photo.read_bytes(), prompt="x")
    assert raised.value.body["code"] == "model_not_found"


def test_an_edit_must_be_multipart(served):
    base, _, secret = served
    answer = httpx.post(
        f"{base}/v1/images/edits",
        headers={"Authorization": f"Bearer {secret}"},
        json={"model": EDITOR, "prompt": "x"},
    )
    assert answer.status_code == 415 and answer.json()["error"]["type"] == "invalid_request_error"


def test_edits_authorization(served, user, other_user, admin_user, make_key, photo, client):
    """Keys only (anonymous, a JWT and a web session are 401); each key edits as its owner."""
    base, _, secret = served
    url = f"{base}/v1/images/edits"
    form = {"model": EDITOR, "prompt": "x"}

    def post(headers=None, **extra):
        return httpx.post(
            url, headers=headers or {}, data=form, files={"image": photo.read_bytes()}, timeout=30, **extra
        )

    assert post().status_code == 401
    assert post({"Authorization": f"Bearer {tokens.access_token_for(user=user)}"}).status_code == 401
    client.force_login(user)
    session = client.cookies["sessionid"].value
    assert post(cookies={"sessionid": session}).status_code == 401
    assert not Generation.objects.exists()
    for who, key in ((user, secret), (other_user, make_key(other_user)[1]), (admin_user, make_key(admin_user)[1])):
        answer = post({"Authorization": f"Bearer {key}"})
        assert answer.status_code == 200, answer.text
        assert Generation.objects.exclude(route=Generation.UPLOAD_ROUTE).latest("pk").owner == who


# ------------------------------------------------------------------ signed URLs


def test_generated_image_urls_are_signed_and_need_no_key(sdk, served):
    base, _, secret = served
    result = sdk().images.generate(
        model="openai/gpt-image-1", prompt="two cats", n=2, size="1024x1024", response_format="url"
    )
    images = list(GeneratedImage.objects.order_by("index"))
    for item, image in zip(result.data, images, strict=True):
        assert item.url.startswith(f"{base}/v1/images/files/{image.pk}/") and "signature=" in item.url
        answer = httpx.get(item.url)
        assert answer.status_code == 200 and answer.content == image.read_bytes()
        # The signature is the credential: a key beside it changes nothing.
        assert httpx.get(item.url, headers={"Authorization": f"Bearer {secret}"}).status_code == 200


@pytest.mark.django_db
def test_an_expired_url_is_410(client, settings):
    image = GeneratedImageFactory()
    settings.GATEWAY_IMAGE_URL_MINUTES = 60
    assert client.get(signed_image_path(image, now=time.time() - 59 * 60)).status_code == 200
    expired = client.get(signed_image_path(image, now=time.time() - 61 * 60))
    assert expired.status_code == 410 and "expired" in expired.json()["error"]["message"]


@pytest.mark.django_db
def test_a_tampered_or_borrowed_signature_is_403(client):
    image, other = GeneratedImageFactory(), GeneratedImageFactory()
    good = signed_image_path(image)
    path, query = good.split("?")
    params = dict(part.split("=", 1) for part in query.split("&"))
    later = str(int(params["expires"]) + 3600)
    cases = [
        f"{path}?expires={later}&signature={params['signature']}",  # a longer life
        f"{path}?expires={params['expires']}&signature={params['signature'][:-1]}x",
        f"{path}?expires={params['expires']}",
        path,
        # Another image's signature on this image's path, and this one's on the other's.
        f"{path}?{signed_image_path(other).split('?')[1]}",
        f"{signed_image_path(other).split('?')[0]}?{query}",
        f"{path}?expires=soon&signature={params['signature']}",
    ]
    for url in cases:
        answer = client.get(url)
        assert answer.status_code == 403, url
        assert answer.json()["error"]["message"] == "This image URL is not valid."
    assert client.get(good).status_code == 200
    assert client.post(good).status_code == 405


@pytest.mark.django_db
def test_a_deleted_image_is_404_and_a_wrong_file_name_is_403(client):
    image = GeneratedImageFactory()
    url = signed_image_path(image)
    renamed = url.replace(image.filename, "other.png")
    assert client.get(renamed).status_code == 403
    image.generation.delete()
    assert client.get(url).status_code == 404
