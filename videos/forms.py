from django import forms

from videos.models import VideoJob


class VideoForm(forms.Form):
    """The video page's form. Which aspect ratios, resolutions and durations exist depends
    on the model: the page offers only the chosen model's values, and the service checks
    them against its catalogue entry."""

    generation_type = forms.ChoiceField(
        choices=VideoJob.GenerationType.choices, initial=VideoJob.GenerationType.TEXT_TO_VIDEO, widget=forms.RadioSelect
    )
    model = forms.ChoiceField(choices=())
    prompt = forms.CharField(max_length=4000, widget=forms.Textarea(attrs={"rows": 4, "maxlength": 4000}))
    aspect_ratio = forms.CharField(required=False, max_length=20, label="Aspect ratio")
    resolution = forms.CharField(required=False, max_length=20, label="Resolution")
    duration = forms.IntegerField(required=False, min_value=1, max_value=600, label="Duration (seconds)")
    image_id = forms.IntegerField(required=False, label="One of your images")
    image_url = forms.CharField(
        required=False,
        label="Or an image URL (https)",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/first-frame.png"}),
    )

    def __init__(self, *args, models=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [(m.pk, m.name or m.pk) for m in models]

    def clean(self):
        data = super().clean()
        if data.get("generation_type") != VideoJob.GenerationType.IMAGE_TO_VIDEO:
            # The image fields belong to the other tab: ignore whatever they hold.
            data["image_id"] = None
            data["image_url"] = ""
        return data
