"""Flask + flask-jwt-extended: GET /api/me behind @jwt_required(), ES256 with the
audience and issuer checked, the user loaded from `sub`. The library answers 401 for a
missing or expired token and 422 for a malformed one or a bad signature: the scanner's
refusal classes must take both.

Usage: python3 app.py CONFIG, with CONFIG one of
  hardened          the library's status codes (401 missing or expired, 422 invalid), with
                    one generic body for every refusal
  default_messages  the library's default bodies, which carry PyJWT's exception text
                    ({"msg": "Not enough segments"}, "Signature verification failed")
Environment: JWT_PUBLIC_KEY_FILE, JWT_AUDIENCE, JWT_ISSUER. Prints "PORT n" once
listening on 127.0.0.1.
"""

import os
import sys

from flask import Flask, jsonify
from flask_jwt_extended import JWTManager, get_current_user, jwt_required
from werkzeug.serving import make_server

CONFIG = sys.argv[1] if len(sys.argv) > 1 else "hardened"
if CONFIG not in ("hardened", "default_messages"):
    raise SystemExit(f"unknown config {CONFIG!r}")

with open(os.environ["JWT_PUBLIC_KEY_FILE"], encoding="ascii") as f:
    PUBLIC_KEY = f.read()

app = Flask(__name__)
app.config.update(
    JWT_ALGORITHM="ES256",
    JWT_DECODE_ALGORITHMS=["ES256"],
    JWT_PUBLIC_KEY=PUBLIC_KEY,
    JWT_DECODE_AUDIENCE=os.environ.get("JWT_AUDIENCE", "https://api.example.test"),
    JWT_DECODE_ISSUER=os.environ.get("JWT_ISSUER", "https://idp.example.test/"),
    JWT_TOKEN_LOCATION=["headers"],
)
jwt = JWTManager(app)

USERS = {
    "alice": {"id": 1, "username": "alice", "name": "Alice Example", "role": "user"},
    "bob": {"id": 2, "username": "bob", "name": "Bob Example", "role": "admin"},
}


@jwt.user_lookup_loader
def load_user(_header, data):
    return USERS.get(data["sub"])


if CONFIG == "hardened":
    # Same status codes as the library's defaults; the reason is logged, not returned.

    def refuse(status):
        return jsonify({"msg": "invalid or missing token"}), status

    @jwt.unauthorized_loader
    def _missing(reason):
        app.logger.info("no token: %s", reason)
        return refuse(401)

    @jwt.invalid_token_loader
    def _invalid(reason):
        app.logger.info("invalid token: %s", reason)
        return refuse(422)

    @jwt.expired_token_loader
    def _expired(_header, _data):
        return refuse(401)

    @jwt.user_lookup_error_loader
    def _unknown_user(_header, _data):
        return refuse(401)


@app.get("/api/me")
@jwt_required()
def me():
    return jsonify(get_current_user())


if __name__ == "__main__":
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()
