"""The catalogue's REST API: the models the pickers and API clients choose from."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from catalogue import selectors, services
from catalogue.models import ProviderModel

KIND_CHOICES = ["text", "image", "video", "embedding"]


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
    enabled = serializers.BooleanField(help_text="switched on by an administrator (users see enabled models only)")
    admins_only = serializers.BooleanField(help_text="offered to administrators only")
    last_seen = serializers.DateTimeField()


class ModelsQuery(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KIND_CHOICES, required=False)


class ModelListApi(APIView):
    """The model catalogue the pickers and API clients choose from: the available models
    the caller may use (enabled ones; admins-only ones for administrators only)."""

    @extend_schema(
        operation_id="models_list",
        parameters=[OpenApiParameter("kind", str, enum=KIND_CHOICES, description="only models of this kind")],
        responses={
            200: ProviderModelOut(many=True),
            400: OpenApiResponse(description="unknown kind"),
            401: OpenApiResponse(description="not signed in"),
        },
    )
    def get(self, request):
        query = ModelsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        models = selectors.catalogue_list(kind=query.validated_data.get("kind"), user=request.user)
        return Response(ProviderModelOut(models, many=True).data)


class IsAdminRole(BasePermission):
    """Signed-in, active administrators (the role as the database has it now)."""

    message = "Only administrators may do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and getattr(user, "is_admin", False))


class ModelAccessIn(serializers.Serializer):
    enabled = serializers.BooleanField(required=False, help_text="offer the model at all")
    admins_only = serializers.BooleanField(required=False, help_text="offer it to administrators only")

    def validate(self, data):
        if not data:
            raise serializers.ValidationError("Send enabled and/or admins_only.")
        return data


class ModelAccessApi(APIView):
    """An administrator's switches of one catalogue model."""

    permission_classes = (IsAdminRole,)

    @extend_schema(
        operation_id="models_access_update",
        request=ModelAccessIn,
        responses={
            200: ProviderModelOut,
            400: OpenApiResponse(description="not a boolean, or neither field"),
            401: OpenApiResponse(description="not signed in"),
            403: OpenApiResponse(description="signed in, but not an administrator"),
            404: OpenApiResponse(description="no model with this id"),
        },
        description="Enable or disable a model, or keep it for administrators. A disabled model "
        'is offered to nobody and refused by the generation APIs (400 on "model"); '
        "an admins-only one is refused to users. Later catalogue syncs keep these switches.",
    )
    def patch(self, request, model_id: str):
        model = get_object_or_404(ProviderModel, pk=model_id)
        data = ModelAccessIn(data=request.data)
        data.is_valid(raise_exception=True)
        model = services.model_access_update(model=model, **data.validated_data)
        return Response(ProviderModelOut(model).data)
