"""The catalogue's REST API: the models the pickers and API clients choose from."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from catalogue import selectors

KIND_CHOICES = ["text", "image", "video"]


class ProviderModelOut(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    kinds = serializers.ListField(child=serializers.CharField())
    input_modalities = serializers.ListField(child=serializers.CharField())
    output_modalities = serializers.ListField(child=serializers.CharField())
    image_route = serializers.CharField(allow_blank=True, help_text='"chat", "images" or empty')
    aspect_ratios = serializers.ListField(child=serializers.CharField())
    resolutions = serializers.ListField(child=serializers.CharField())
    sizes = serializers.ListField(child=serializers.CharField())
    durations = serializers.ListField(child=serializers.IntegerField())
    frame_images = serializers.ListField(child=serializers.CharField())
    max_n = serializers.IntegerField(allow_null=True)
    generate_audio = serializers.BooleanField(allow_null=True)
    context_length = serializers.IntegerField(allow_null=True)
    pricing = serializers.DictField()
    last_seen = serializers.DateTimeField()


class ModelsQuery(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KIND_CHOICES, required=False)


class ModelListApi(APIView):
    """The model catalogue the pickers and API clients choose from (available models only)."""

    @extend_schema(
        operation_id="models_list",
        parameters=[OpenApiParameter("kind", str, enum=KIND_CHOICES, description="only models of this kind")],
        responses={200: ProviderModelOut(many=True), 400: OpenApiResponse(description="unknown kind"),
                   401: OpenApiResponse(description="not signed in")},
    )
    def get(self, request):
        query = ModelsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        models = selectors.catalogue_list(kind=query.validated_data.get("kind"))
        return Response(ProviderModelOut(models, many=True).data)
