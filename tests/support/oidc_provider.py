"""A small OpenID Connect provider for tests, served over real HTTP on 127.0.0.1 by a
background thread: discovery, JWKS, authorize (one test user, consent given at once), token
(authorization code with PKCE S256 required, client secret basic or post) and userinfo.
The protocol is Authlib's server side (AuthorizationServer, AuthorizationCodeGrant,
OpenIDCode, CodeChallenge); this module only stores codes in memory and speaks HTTP.

``with OidcTestProvider(client_id=..., client_secret=..., redirect_uri=...) as op:`` then set
``op.user`` (the claims of whoever signs in) and, to misbehave, ``op.audience`` (another
``aud``), ``op.azp``, ``op.sign_with_foreign_key`` (a key not in the JWKS under the published key id),
``op.nonce`` (another nonce), ``op.expired`` (an ``exp`` in the past),
``op.omit_id_token`` (an access token only). ``op.authorize_requests``
and ``op.token_requests`` hold the parameters each endpoint received, ``op.issued_tokens``
what the token endpoint gave."""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from authlib.common.security import generate_token
from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Request, grants
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import RSAKey

KEY_ID = "test-key-1"


@dataclass
class _Client:
    client_id: str
    client_secret: str
    redirect_uri: str

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uri

    def get_allowed_scope(self, scope):
        allowed = {"openid", "email", "profile", "groups"}
        return " ".join(s for s in (scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri == self.redirect_uri

    def check_client_secret(self, client_secret):
        return client_secret == self.client_secret

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class _Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: dict
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return None

    def get_amr(self):
        return None

    def is_expired(self):
        return time.time() > self.auth_time + 60


class _Request(OAuth2Request):
    def __init__(self, method: str, uri: str, headers, query: dict, form: dict):
        super().__init__(method, uri, headers=headers)
        self._args, self._form = query, form
        self.payload = BasicOAuth2Payload({**query, **form})

    @property
    def args(self):
        return self._args

    @property
    def form(self):
        return self._form


class OidcTestProvider:
    def __init__(self, *, client_id: str, client_secret: str, redirect_uri: str) -> None:
        self.client = _Client(client_id, client_secret, redirect_uri)
        self.key = RSAKey.generate_key(2048, parameters={"kid": KEY_ID, "use": "sig", "alg": "RS256"})
        self.foreign_key = RSAKey.generate_key(2048, parameters={"kid": KEY_ID, "use": "sig", "alg": "RS256"})
        self.user: dict = {"sub": "user-1", "email": "person@example.com", "email_verified": True}
        self.audience: str | None = None
        self.azp: str | None = None
        self.sign_with_foreign_key = False
        self.nonce: str | None = None
        self.expired = False
        self.omit_id_token = False
        self.authorize_requests: list[dict] = []
        self.token_requests: list[dict] = []
        self.issued_tokens: list[dict] = []
        self.codes: dict[str, _Code] = {}
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.issuer = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.server = self._authorization_server()
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="oidc-test-provider", daemon=True)

    def __enter__(self) -> OidcTestProvider:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def discovery(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile", "groups"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code"],
        }

    def jwks(self) -> dict:
        return {"keys": [self.key.as_dict(private=False)]}

    def _authorization_server(self) -> AuthorizationServer:
        provider = self

        class Server(AuthorizationServer):
            def query_client(self, client_id):
                return provider.client if client_id == provider.client.client_id else None

            def save_token(self, token, request):
                provider.issued_tokens.append(token)

            def create_oauth2_request(self, request):
                return request

            def handle_response(self, status, body, headers):
                return status, body, headers

            def send_signal(self, name, *args, **kwargs):
                pass

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

            def save_authorization_code(self, code, request):
                data = request.payload.data
                provider.codes[code] = _Code(
                    code=code,
                    client_id=request.client.client_id,
                    redirect_uri=request.payload.redirect_uri,
                    scope=request.scope,
                    user=dict(request.user),
                    nonce=provider.nonce or data.get("nonce"),
                    code_challenge=data.get("code_challenge"),
                    code_challenge_method=data.get("code_challenge_method"),
                )

            def query_authorization_code(self, code, client):
                found = provider.codes.get(code)
                return found if found and found.client_id == client.client_id else None

            def delete_authorization_code(self, authorization_code):
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code):
                return authorization_code.user

        class IdToken(OpenIDCode):
            def exists_nonce(self, nonce, request):
                return any(c.nonce == nonce for c in provider.codes.values())

            def resolve_client_private_key(self, client):
                return provider.foreign_key if provider.sign_with_foreign_key else provider.key

            def get_client_algorithm(self, client):
                return "RS256"

            def get_encode_header(self, client):
                return {"alg": "RS256", "kid": KEY_ID}

            def get_client_claims(self, client):
                now = int(time.time())
                claims = {"iss": provider.issuer, "aud": [provider.audience or client.client_id]}
                if provider.azp:
                    claims["azp"] = provider.azp
                if provider.expired:
                    claims.update(iat=now - 3600, exp=now - 1800)
                return claims

            def generate_user_info(self, user, scope):
                return UserInfo(user)

            def process_token(self, grant, response):
                if provider.omit_id_token:  # a plain OAuth answer, proving no one's identity
                    return response[1]
                return super().process_token(grant, response)

        server = Server(scopes_supported=["openid", "email", "profile", "groups"])
        server.register_token_generator("default", BearerTokenGenerator(lambda **kw: generate_token(42)))
        server.register_grant(CodeGrant, [IdToken(require_nonce=True), CodeChallenge(required=True)])
        return server


def _handler_for(provider: OidcTestProvider):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # quiet in test output
            pass

        def _request(self, form: dict) -> _Request:
            parts = urlsplit(self.path)
            return _Request(self.command, provider.issuer + self.path, self.headers, dict(parse_qsl(parts.query)), form)

        def _send(self, status: int, body, headers=()) -> None:
            payload = body if isinstance(body, (bytes, str)) else json.dumps(body)
            data = payload.encode() if isinstance(payload, str) else payload
            self.send_response(status)
            sent = {name.lower() for name, _ in headers}
            for name, value in headers:
                self.send_header(name, value)
            if "content-type" not in sent:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            path = urlsplit(self.path).path
            if path == "/.well-known/openid-configuration":
                return self._send(200, provider.discovery())
            if path == "/jwks":
                return self._send(200, provider.jwks())
            if path == "/authorize":
                request = self._request({})
                provider.authorize_requests.append(dict(request.args))
                request.user = provider.user
                try:
                    grant = provider.server.get_authorization_grant(request)
                    grant.validate_consent_request()
                except Exception as exc:  # an invalid request: the error page a provider shows
                    return self._send(400, {"error": getattr(exc, "error", "invalid_request")})
                return self._send(*provider.server.create_authorization_response(request, provider.user, grant))
            if path == "/userinfo":
                return self._send(200, provider.user)
            return self._send(404, {"error": "not_found"})

        def do_POST(self):
            path = urlsplit(self.path).path
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(parse_qsl(self.rfile.read(length).decode()))
            if path != "/token":
                return self._send(404, {"error": "not_found"})
            recorded = dict(form)
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                recorded["basic_client_id"] = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
            provider.token_requests.append(recorded)
            return self._send(*provider.server.create_token_response(self._request(form)))

    return Handler
