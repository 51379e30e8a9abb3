"""Image editing in a real Chromium: generate, edit twice from the image page, follow the
lineage both ways (the offline double's edit inverts the source's colours)."""

import io

import pytest
from PIL import Image

from generation.models import Generation
from tests.e2e.test_generation_browser import demo_studio, shots, signed_in  # noqa: F401

pytestmark = pytest.mark.e2e

EDITOR = "google/gemini-2.5-flash-image"
IMAGES_LOADED = (
    "() => [...document.querySelectorAll('img')].length > 0 && "
    "[...document.querySelectorAll('img')].every(i => i.complete && i.naturalWidth > 0)"
)


def edit(page, instruction):
    before = current_id(page)
    form = page.locator("[data-testid=edit-form]").first
    form.locator("textarea").fill(instruction)
    form.locator("select").select_option(EDITOR)
    form.locator("[data-testid=edit]").click()
    page.wait_for_url(lambda url: url.rstrip("/").rsplit("/", 1)[-1] != str(before))
    page.wait_for_function(IMAGES_LOADED)
    return current_id(page)


def current_id(page) -> int:
    return int(page.url.rstrip("/").rsplit("/", 1)[-1])


def pixels(generation_id):
    data = Generation.objects.get(pk=generation_id).images.get().read_bytes()
    return Image.open(io.BytesIO(data)).convert("RGB")


def test_generate_edit_twice_and_follow_the_lineage(signed_in, page, shots):
    page.goto("/generate/image")
    page.select_option("#id_model", EDITOR)
    page.fill("#id_prompt", "A lighthouse on a rock")
    page.select_option("#id_aspect_ratio", "16:9")
    page.click("[data-testid=generate]")
    page.wait_for_url("**/history/*")
    page.wait_for_function(IMAGES_LOADED)
    original = current_id(page)
    assert page.locator("[data-testid=edited-from]").count() == 0

    # A click enlarges the image in a dialog; Escape closes it and the focus goes back.
    page.click("[data-testid=enlarge]")
    dialog = page.locator("[data-testid=lightbox]")
    assert dialog.is_visible()
    page.wait_for_function("() => document.querySelector('[data-testid=lightbox-image]').naturalWidth > 0")
    page.keyboard.press("Escape")
    assert dialog.is_hidden()
    assert page.evaluate("document.activeElement.dataset.testid") == "enlarge"

    first = edit(page, "Make it night")
    second = edit(page, "Add a moon")
    assert len({original, first, second}) == 3
    page.screenshot(path=str(shots / "image-edited-twice.png"), full_page=True)

    # Each edit is visibly its source made over: the double inverts the colours.
    for source, result in ((original, first), (first, second)):
        before, after = pixels(source), pixels(result)
        assert after.size == before.size
        x, y = before.size[0] // 3, before.size[1] // 3
        assert after.getpixel((x, y)) == tuple(255 - c for c in before.getpixel((x, y)))

    # Made from: the second edit's page leads back to the first, then to the original.
    assert page.locator("[data-testid=edited-from] img").evaluate("i => i.naturalWidth") > 0
    page.click("[data-testid=edited-from] a")
    page.wait_for_url(f"**/history/{first}")
    page.click("[data-testid=edited-from] a")
    page.wait_for_url(f"**/history/{original}")
    assert page.locator("[data-testid=edited-from]").count() == 0

    # Edited into: and forward again.
    page.click(f"[data-testid=edits] a[href='/history/{first}']")
    page.wait_for_url(f"**/history/{first}")
    page.click(f"[data-testid=edits] a[href='/history/{second}']")
    page.wait_for_url(f"**/history/{second}")
    assert page.locator("[data-testid=edits]").count() == 0
    assert Generation.objects.get(pk=second).source_image.generation_id == first
