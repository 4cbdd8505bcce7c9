"""ZGW client authentication: an HS256 JWT per request, checked with PyJWT.

A client sends ``Authorization: Bearer <jwt>``; the JWT carries
``client_id`` (and ``iss``, ``iat``) and is signed with the secret that
the server knows for that client id, as Open Zaak does it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import jwt
from jwt.algorithms import HMACAlgorithm


class _HS256AnyLength(HMACAlgorithm):
    """HS256 without PyJWT's short-key warning.

    ZGW client secrets are often shorter than 32 bytes (Open Zaak accepts
    them); PyJWT would emit ``InsecureKeyLengthWarning`` for each token,
    which the project's ``filterwarnings = error`` turns into failures
    inside the server thread.
    """

    def check_key_length(self, key: bytes) -> str | None:
        return None


def _hs256_jws() -> jwt.PyJWS:
    jws = jwt.PyJWS(algorithms=["HS256"])
    jws.unregister_algorithm("HS256")
    jws.register_algorithm("HS256", _HS256AnyLength(HMACAlgorithm.SHA256))
    return jws


_JWS = _hs256_jws()


@dataclass(frozen=True)
class AuthResult:
    client_id: str | None
    error: str | None  # None when the token is accepted

    @property
    def ok(self) -> bool:
        return self.error is None


class JWTAuth:
    """Checks bearer tokens against known ``(client_id, secret)`` pairs."""

    def __init__(self, clients: Iterable[tuple[str, str]] | Mapping[str, str],
                 expiry: int = 3600, leeway: int = 0) -> None:
        pairs = clients.items() if isinstance(clients, Mapping) else clients
        self.secrets: dict[str, str] = {cid: secret for cid, secret in pairs}
        self.expiry = expiry
        self.leeway = leeway

    def check(self, authorization: str | None) -> AuthResult:
        if not authorization:
            return AuthResult(None, "Authenticatiegegevens zijn niet opgegeven (geen Authorization header).")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return AuthResult(None, "Authorization header is geen 'Bearer <JWT>'.")
        token = token.strip()
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            return AuthResult(None, f"Ongeldige JWT: {exc}")
        if header.get("alg") != "HS256":
            return AuthResult(None, f"JWT-algoritme {header.get('alg')!r} wordt niet ondersteund (alleen HS256).")
        client_id = claims.get("client_id")
        if not isinstance(client_id, str) or not client_id:
            return AuthResult(None, "JWT mist de claim 'client_id'.")
        secret = self.secrets.get(client_id)
        if secret is None:
            return AuthResult(client_id, f"Onbekende client_id {client_id!r}.")
        try:
            _JWS.decode(token, secret, algorithms=["HS256"])  # signature
            verified = jwt.decode(  # registered claims (iat, exp, nbf)
                token,
                options={
                    "verify_signature": False,
                    "verify_iat": True,
                    "verify_exp": True,
                    "verify_nbf": True,
                    "require": ["iat"],
                },
                leeway=self.leeway,
            )
        except jwt.PyJWTError as exc:
            return AuthResult(client_id, f"JWT van {client_id!r} afgekeurd: {exc}")
        issued = verified["iat"]
        if not isinstance(issued, (int, float)):
            return AuthResult(client_id, "JWT-claim 'iat' is geen getal.")
        if time.time() - issued > self.expiry + self.leeway:
            return AuthResult(client_id, f"JWT van {client_id!r} is verlopen (iat ouder dan {self.expiry} s).")
        return AuthResult(client_id, None)


def make_token(client_id: str, secret: str, *, user_id: str = "test",
               user_representation: str = "Test", iat: float | None = None,
               **extra: object) -> str:
    """A ZGW client token, as a client (the broker) would mint it."""
    payload: dict[str, object] = {
        "iss": client_id,
        "iat": int(time.time() if iat is None else iat),
        "client_id": client_id,
        "user_id": user_id,
        "user_representation": user_representation,
    }
    payload.update(extra)
    body = json.dumps(payload, separators=(",", ":")).encode()
    return _JWS.encode(body, secret, algorithm="HS256", headers={"typ": "JWT"})
