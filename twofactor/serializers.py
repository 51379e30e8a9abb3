from rest_framework import serializers

from twofactor.models import Requirement


class ChallengeOut(serializers.Serializer):
    two_factor_required = serializers.SerializerMethodField(help_text="always true: a code is needed")
    challenge = serializers.CharField(
        source="token", help_text="send it with a code to POST /api/auth/login/2fa; usable once"
    )
    expires_at = serializers.DateTimeField(help_text="the challenge is refused after this")

    def get_two_factor_required(self, obj) -> bool:
        return True


class PolicyOut(serializers.Serializer):
    # The JSON key; DRF takes declared fields off the class, so Field.required is not shadowed.
    required = serializers.ChoiceField(  # type: ignore[assignment]
        choices=Requirement.choices, help_text="who must use two-factor authentication"
    )
    default = serializers.ChoiceField(
        choices=Requirement.choices, help_text="TWO_FACTOR_REQUIRED: what applies until an administrator chooses"
    )
