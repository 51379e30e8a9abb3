"""The page forms. Bounds that come from settings are read when a form is built, so the
fields they bound are made in ``__init__``: each gets its validators and its HTML
``min``/``max``/``maxlength`` from the constructor."""

from django import forms
from django.conf import settings


def prompt_field(rows: int, **kwargs) -> forms.CharField:
    """A prompt box bounded like the service's prompts: the limit is both checked and
    sent to the browser as ``maxlength``."""
    return forms.CharField(
        max_length=settings.GENERATION_PROMPT_MAX_CHARS, widget=forms.Textarea(attrs={"rows": rows}), **kwargs
    )


def model_choices(models) -> list[tuple[str, str]]:
    return [(m.pk, m.name or m.pk) for m in models]


class TextForm(forms.Form):
    model = forms.ChoiceField(choices=())
    temperature = forms.FloatField(required=False, min_value=0, max_value=2, label="Temperature")

    def __init__(self, *args, models=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = model_choices(models)
        self.fields["prompt"] = prompt_field(5)
        self.fields["prompt"].widget.attrs["aria-describedby"] = "prompt-hint"  # the keys and the counter
        self.fields["system"] = prompt_field(2, required=False, label="System prompt")
        self.fields["max_tokens"] = forms.IntegerField(
            required=False, min_value=1, max_value=settings.GENERATION_MAX_TOKENS_LIMIT, label="Max tokens"
        )


class ImageForm(forms.Form):
    model = forms.ChoiceField(choices=())
    # The choices depend on the model: the page offers only the chosen model's values,
    # and the service checks them against its catalogue entry.
    aspect_ratio = forms.CharField(required=False, label="Aspect ratio")
    image_size = forms.CharField(required=False, label="Resolution")
    size = forms.CharField(required=False, label="Size")

    def __init__(self, *args, models=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = model_choices(models)
        self.fields["prompt"] = prompt_field(4)
        self.fields["n"] = forms.IntegerField(
            required=False, min_value=1, max_value=settings.GENERATION_MAX_IMAGES, initial=1, label="Number of images"
        )


class ImageEditForm(forms.Form):
    """An edit of one stored image: which of the generation's images, what to change, and a
    model that takes and gives images."""

    image = forms.ChoiceField(choices=(), widget=forms.RadioSelect, label="Image to edit")
    model = forms.ChoiceField(choices=())

    def __init__(self, *args, models=(), images=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["image"].choices = [(str(image.pk), f"Image {n}") for n, image in enumerate(images, 1)]
        if images:
            self.fields["image"].initial = str(images[0].pk)
        self.fields["model"].choices = model_choices(models)
        self.fields["instruction"] = prompt_field(2, label="Instruction")


class HistoryFilterForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("", "All"), ("text", "Text"), ("image", "Images"), ("conversation", "Conversations")], required=False
    )
