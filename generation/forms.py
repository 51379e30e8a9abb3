from django import forms
from django.conf import settings


class TextForm(forms.Form):
    model = forms.ChoiceField(choices=())
    prompt = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}))
    system = forms.CharField(required=False, label="System prompt", widget=forms.Textarea(attrs={"rows": 2}))
    max_tokens = forms.IntegerField(required=False, min_value=1, label="Max tokens")
    temperature = forms.FloatField(required=False, min_value=0, max_value=2, label="Temperature")

    def __init__(self, *args, models=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [(m.pk, m.name or m.pk) for m in models]
        self.fields["prompt"].widget.attrs["maxlength"] = settings.GENERATION_PROMPT_MAX_CHARS
        self.fields["max_tokens"].max_value = settings.GENERATION_MAX_TOKENS_LIMIT


class ImageForm(forms.Form):
    model = forms.ChoiceField(choices=())
    prompt = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    # The choices depend on the model: the page offers only the chosen model's values,
    # and the service checks them against its catalogue entry.
    aspect_ratio = forms.CharField(required=False, label="Aspect ratio")
    image_size = forms.CharField(required=False, label="Resolution")
    size = forms.CharField(required=False, label="Size")
    n = forms.IntegerField(required=False, min_value=1, initial=1, label="Number of images")

    def __init__(self, *args, models=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [(m.pk, m.name or m.pk) for m in models]
        self.fields["prompt"].widget.attrs["maxlength"] = settings.GENERATION_PROMPT_MAX_CHARS
        self.fields["n"].max_value = settings.GENERATION_MAX_IMAGES


class HistoryFilterForm(forms.Form):
    kind = forms.ChoiceField(choices=[("", "All"), ("text", "Text"), ("image", "Images")], required=False)
