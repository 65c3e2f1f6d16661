"""Flask + PyJWT: a bearer-protected GET /api/me, as a real app writes it.

Usage: python3 app.py CONFIG, with CONFIG one of
  hardened            jwt.decode(t, key, algorithms=["ES256"], audience, issuer, require exp+sub)
  verify_signature_off  jwt.decode(t, options={"verify_signature": False})
  no_audience         as hardened, with options={"verify_aud": False}
  no_exp              as hardened, with options={"verify_exp": False}
Environment: JWT_PUBLIC_KEY_FILE (PEM, the ES256 verification key), JWT_AUDIENCE,
JWT_ISSUER. Listens on 127.0.0.1, on an ephemeral port it prints as the first line of
stdout ("PORT 12345").
"""

import os
import sys

import jwt
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

CONFIG = sys.argv[1] if len(sys.argv) > 1 else "hardened"
with open(os.environ["JWT_PUBLIC_KEY_FILE"], encoding="ascii") as f:
    PUBLIC_KEY = f.read()
AUDIENCE = os.environ.get("JWT_AUDIENCE", "https://api.example.test")
ISSUER = os.environ.get("JWT_ISSUER", "https://idp.example.test/")

# The user store: identity is looked up from `sub`.
USERS = {
    "alice": {"id": 1, "username": "alice", "name": "Alice Example", "role": "user"},
    "bob": {"id": 2, "username": "bob", "name": "Bob Example", "role": "admin"},
}

REQUIRE = {"require": ["exp", "sub"]}


def decode(token):
    if CONFIG == "hardened":
        return jwt.decode(
            token, PUBLIC_KEY, algorithms=["ES256"], audience=AUDIENCE, issuer=ISSUER, options=REQUIRE
        )
    if CONFIG == "verify_signature_off":
        # The flaw: "we only need the claims, the gateway checked it" (it did not).
        return jwt.decode(token, options={"verify_signature": False})
    if CONFIG == "no_audience":
        return jwt.decode(
            token,
            PUBLIC_KEY,
            algorithms=["ES256"],
            issuer=ISSUER,
            options={**REQUIRE, "verify_aud": False},
        )
    if CONFIG == "no_exp":
        return jwt.decode(
            token,
            PUBLIC_KEY,
            algorithms=["ES256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={**REQUIRE, "verify_exp": False},
        )
    raise SystemExit(f"unknown config {CONFIG!r}")


app = Flask(__name__)


def unauthorized(error=None):
    resp = jsonify({"error": "unauthorized"})
    resp.status_code = 401
    challenge = 'Bearer realm="api"'
    if error:
        challenge += f', error="{error}"'
    resp.headers["WWW-Authenticate"] = challenge
    return resp


@app.get("/api/me")
def me():
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return unauthorized()
    try:
        claims = decode(token.strip())
    except jwt.InvalidTokenError:
        return unauthorized("invalid_token")
    user = USERS.get(claims.get("sub")) if isinstance(claims.get("sub"), str) else None
    if user is None:
        return unauthorized("invalid_token")
    return jsonify(user)


if __name__ == "__main__":
    if CONFIG not in ("hardened", "verify_signature_off", "no_audience", "no_exp"):
        raise SystemExit(f"unknown config {CONFIG!r}")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()
