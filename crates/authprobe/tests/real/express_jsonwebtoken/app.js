// Express + jsonwebtoken (and express-jwt): a bearer-protected GET /api/me, as a real
// app writes it.
//
// Usage: node app.js CONFIG, with CONFIG one of
//   hardened     jwt.verify(t, key, {algorithms: ["ES256"], audience, issuer})
//   express_jwt  the express-jwt middleware with the same options
//   decode_only  jwt.decode(t): the claims are read, the signature never checked
// Environment: JWT_PUBLIC_KEY_FILE (PEM), JWT_AUDIENCE, JWT_ISSUER. Listens on
// 127.0.0.1, on an ephemeral port printed as the first line of stdout ("PORT 12345").
"use strict";

const fs = require("fs");
const express = require("express");
const jwt = require("jsonwebtoken");
const { expressjwt } = require("express-jwt");

const CONFIG = process.argv[2] || "hardened";
const PUBLIC_KEY = fs.readFileSync(process.env.JWT_PUBLIC_KEY_FILE, "ascii");
const AUDIENCE = process.env.JWT_AUDIENCE || "https://api.example.test";
const ISSUER = process.env.JWT_ISSUER || "https://idp.example.test/";
const VERIFY = { algorithms: ["ES256"], audience: AUDIENCE, issuer: ISSUER };

// The user store: identity is looked up from `sub`.
const USERS = {
  alice: { id: 1, username: "alice", name: "Alice Example", role: "user" },
  bob: { id: 2, username: "bob", name: "Bob Example", role: "admin" },
};

function unauthorized(res, error) {
  res.set("WWW-Authenticate", error ? `Bearer realm="api", error="${error}"` : 'Bearer realm="api"');
  return res.status(401).json({ error: "unauthorized" });
}

function bearer(req) {
  const [scheme, token] = (req.get("authorization") || "").split(" ");
  return scheme && scheme.toLowerCase() === "bearer" && token ? token : null;
}

// Sets req.claims or answers 401.
function authenticate(req, res, next) {
  const token = bearer(req);
  if (!token) return unauthorized(res);
  let claims;
  try {
    if (CONFIG === "hardened") {
      claims = jwt.verify(token, PUBLIC_KEY, VERIFY);
    } else {
      // The flaw: decode() never verifies anything.
      claims = jwt.decode(token);
    }
  } catch (e) {
    return unauthorized(res, "invalid_token");
  }
  if (!claims || typeof claims !== "object") return unauthorized(res, "invalid_token");
  req.claims = claims;
  next();
}

const app = express();
app.disable("x-powered-by");

let guard;
if (CONFIG === "express_jwt") {
  guard = expressjwt({ secret: PUBLIC_KEY, ...VERIFY, requestProperty: "claims" });
} else if (CONFIG === "hardened" || CONFIG === "decode_only") {
  guard = authenticate;
} else {
  console.error(`unknown config ${CONFIG}`);
  process.exit(2);
}

app.get("/api/me", guard, (req, res) => {
  const user = typeof req.claims.sub === "string" ? USERS[req.claims.sub] : undefined;
  if (!user) return unauthorized(res, "invalid_token");
  res.json(user);
});

// express-jwt's documented error handler: its UnauthorizedError becomes a plain 401.
app.use((err, req, res, next) => {
  if (err && err.name === "UnauthorizedError") return unauthorized(res, "invalid_token");
  next(err);
});

const server = app.listen(0, "127.0.0.1", () => {
  console.log(`PORT ${server.address().port}`);
});
