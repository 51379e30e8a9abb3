"""The OpenAPI schema documents /v1/ (tag "openai-compatible") and /api/keys (tag "keys")."""

import pytest
import yaml
from django.test import Client

pytestmark = pytest.mark.django_db

DOCUMENTED = {
    ("/v1/models", "get"): {"200", "401"},
    ("/v1/models/{model_id}", "get"): {"200", "401", "404"},
    ("/v1/chat/completions", "post"): {"200", "400", "401", "402", "429", "502"},
    ("/v1/images/generations", "post"): {"200", "400", "401", "429"},
    ("/v1/videos", "post"): {"202", "400", "401", "429"},
    ("/v1/videos/{id}", "get"): {"200", "401", "404"},
    ("/v1/videos/{id}/content", "get"): {"200", "401", "404"},
    ("/api/keys", "get"): {"200", "401", "403"},
    ("/api/keys", "post"): {"201", "400", "401", "403"},
    ("/api/keys/{id}", "delete"): {"204", "401", "403", "404"},
}


def test_the_schema_documents_v1_and_keys():
    schema = yaml.safe_load(Client().get("/api/schema/").content)
    for (path, method), codes in DOCUMENTED.items():
        operation = schema["paths"][path][method]
        assert codes <= set(operation["responses"]), (path, method)
        expected = "openai-compatible" if path.startswith("/v1/") else "keys"
        assert operation["tags"] == [expected]
    assert "apiKeyAuth" in schema["components"]["securitySchemes"]
    assert schema["paths"]["/v1/models"]["get"]["security"] == [{"apiKeyAuth": []}]
    error = schema["paths"]["/v1/chat/completions"]["post"]["responses"]["400"]["content"]["application/json"]
    assert error["schema"]["$ref"].endswith("/OpenAIError")
