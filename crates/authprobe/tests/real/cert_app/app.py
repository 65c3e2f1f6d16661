"""A certificate-only app behind a TLS-terminating proxy (HAProxy, Apache mod_ssl): the
proxy verifies the client certificate and forwards its subject CN in a header; the app
maps the CN to a user and reads no token.

Usage: python3 app.py [HEADER], HEADER defaulting to X-SSL-Client-CN. Prints "PORT n"
once listening on 127.0.0.1.
"""

import sys

from flask import Flask, jsonify, request
from werkzeug.serving import make_server

HEADER = sys.argv[1] if len(sys.argv) > 1 else "X-SSL-Client-CN"

USERS = {
    "alice": {"id": 1, "username": "alice", "name": "Alice Example", "role": "user"},
    "bob": {"id": 2, "username": "bob", "name": "Bob Example", "role": "admin"},
}

app = Flask(__name__)


@app.get("/api/me")
def me():
    user = USERS.get(request.headers.get(HEADER, "").strip())
    if user is None:
        return jsonify({"error": "client certificate required"}), 401
    return jsonify(user)


if __name__ == "__main__":
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()
