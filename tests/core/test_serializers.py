"""core.serializers.FieldsBuiltOnce: fields lent to each instance validate as DRF's own copies do."""

from __future__ import annotations

import threading

from rest_framework import serializers

from core.serializers import FieldsBuiltOnce


class PartIn(FieldsBuiltOnce):
    role = serializers.CharField()
    content = serializers.CharField(required=False, default="")


class BodyIn(FieldsBuiltOnce):
    model = serializers.CharField()
    parts = PartIn(many=True, allow_empty=False)
    count = serializers.IntegerField(required=False, default=None, allow_null=True)


def test_each_instance_validates_its_own_data_with_the_same_fields():
    good = BodyIn(data={"model": "m", "parts": [{"role": "user", "content": "hi"}], "count": 2})
    bad = BodyIn(data={"model": "m", "parts": [{"content": "no role"}], "count": "x"})
    assert good.is_valid() and not bad.is_valid()
    assert bad.errors == {
        "parts": {0: {"role": ["This field is required."]}},
        "count": ["A valid integer is required."],
    }
    again = BodyIn(data={"model": "n", "parts": [{"role": "tool"}]})
    assert again.is_valid(), again.errors
    assert again.validated_data == {"model": "n", "parts": [{"role": "tool", "content": ""}], "count": None}
    assert good.validated_data["parts"] == [{"role": "user", "content": "hi"}]
    # Built once: the same field objects, bound to whichever instance uses them now.
    assert again.fields is good.fields and again.fields["model"].root is again


def test_each_thread_builds_its_own():
    here = BodyIn(data={}).fields
    there = []
    thread = threading.Thread(target=lambda: there.append(BodyIn(data={}).fields))
    thread.start()
    thread.join()
    assert there[0] is not here and list(there[0]) == list(here)


class AmountOut(serializers.Serializer):
    total = serializers.IntegerField()


class AnswerOut(FieldsBuiltOnce):
    id = serializers.IntegerField()
    tag = serializers.SerializerMethodField()
    amount = AmountOut()

    def get_tag(self, answer) -> str:
        return f"{self.context['prefix']}{answer['id']}"


def test_each_instance_represents_its_own_object_with_its_own_context():
    first = AnswerOut({"id": 1, "amount": {"total": 10}}, context={"prefix": "a-"})
    second = AnswerOut({"id": 2, "amount": {"total": 20}}, context={"prefix": "b-"})
    assert first.data == {"id": 1, "tag": "a-1", "amount": {"total": 10}}
    assert second.data == {"id": 2, "tag": "b-2", "amount": {"total": 20}}
    assert AnswerOut({"id": 3, "amount": {"total": 0}}, context={"prefix": "c-"}).data["tag"] == "c-3"
    assert first.fields is second.fields
