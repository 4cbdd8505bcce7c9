"""How the broker proves itself to a system it calls over SOAP: a client certificate (mutual TLS),
HTTP basic authentication and a WS-Security UsernameToken, in any combination (configured as
:class:`broker.mappings.applications.OutboundAuthentication`), and reading that system's StUF answer.

- :func:`client_options`: the httpx options for the TLS context (the client certificate, the CA the
  server's certificate is checked with) and HTTP basic;
- :func:`usernametoken_header`: the ``wsse:Security`` SOAP header (PasswordDigest with a fresh Nonce and
  Created, as the OASIS UsernameToken profile 1.0 prescribes, or PasswordText);
- :func:`read_answer`: a SOAP answer's StUF element; a SOAP Fault carrying a Fo-bericht becomes an
  AdapterError whose ``plek`` decides a retry (server: retry; client: permanent), the answer kept.
"""

from __future__ import annotations

import base64
import hashlib
import os
import ssl
from datetime import UTC, datetime
from typing import Any

import httpx
from lxml import etree

from broker.adapters.http import HttpErrors
from broker.errors import AdapterError, StufError
from broker.mappings.applications import OutboundAuthentication
from broker.stuf import ns, xmlsafe

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
_SOAP_MESSAGE_SECURITY = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0"


def _password(env: str) -> str:
    value = os.environ.get(env)
    if value is None:  # validated when the configuration was read; unset since
        raise AdapterError(f"environment variable {env} is not set", retryable=False)
    return value


def client_options(auth: OutboundAuthentication | None, ca_file: str | None) -> dict[str, Any]:
    """httpx.Client keyword arguments: ``verify`` (an SSL context with the client certificate and
    the CA, when either is configured) and ``auth`` (HTTP basic)."""
    options: dict[str, Any] = {}
    cert = auth.certificate if auth is not None else None
    if cert is not None or ca_file is not None:
        context = ssl.create_default_context(cafile=ca_file)
        if cert is not None:
            context.load_cert_chain(cert.cert_file, cert.key_file)
        options["verify"] = context
    if auth is not None and auth.basic is not None:
        options["auth"] = httpx.BasicAuth(auth.basic.username, _password(auth.basic.password_env))
    return options


def usernametoken_header(auth: OutboundAuthentication | None) -> etree._Element | None:
    """The ``wsse:Security`` header block with a UsernameToken, or None when none is configured."""
    token_config = auth.usernametoken if auth is not None else None
    if token_config is None:
        return None
    password = _password(token_config.password_env)
    security = etree.Element(ns.q(WSSE, "Security"), nsmap={"wsse": WSSE, "wsu": WSU})
    token = etree.SubElement(security, ns.q(WSSE, "UsernameToken"))
    etree.SubElement(token, ns.q(WSSE, "Username")).text = token_config.username
    given = etree.SubElement(token, ns.q(WSSE, "Password"))
    if token_config.digest:
        nonce = os.urandom(16)
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        given.text = base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()
        given.set("Type", f"{_PROFILE}#PasswordDigest")
        n = etree.SubElement(token, ns.q(WSSE, "Nonce"))
        n.text = base64.b64encode(nonce).decode()
        n.set("EncodingType", f"{_SOAP_MESSAGE_SECURITY}#Base64Binary")
        etree.SubElement(token, ns.q(WSU, "Created")).text = created
    else:
        given.text = password
        given.set("Type", f"{_PROFILE}#PasswordText")
    return security


def read_answer(response: httpx.Response, where: str, errors: type[HttpErrors] = HttpErrors,
                answer_chars: int = 20000, fault_where: str | None = None) -> etree._Element:
    """The StUF element of a SOAP answer; an AdapterError for a fault (named ``fault_where``, default
    ``where``), an error status or no SOAP."""
    text = response.text[:answer_chars]
    try:
        payload, fault = _payload(response.content)
    except Exception:  # not a SOAP answer at all
        raise AdapterError(f"{where}: HTTP {response.status_code} without a SOAP answer",
                           retryable=errors.retryable_status(response.status_code), target_answer=text) from None
    if fault is not None:
        code = _text(payload, "body", "code") or "StUF058"
        plek = _text(payload, "body", "plek") or ("server" if response.status_code >= 500 else "client")
        error = StufError(code, _text(payload, "body", "omschrijving"), _text(payload, "body", "details"), plek=plek)
        raise AdapterError(f"{fault_where or where}: {code} ({plek}) {error.omschrijving}", retryable=plek == "server",
                           fault=error, target_answer=text)
    if response.status_code >= 400:
        raise errors.status_error(where, response, answer_chars=answer_chars)
    return payload


def _payload(content: bytes) -> tuple[etree._Element, etree._Element | None]:
    env = xmlsafe.parse(content)
    body = next(c for c in env if ns.local(c.tag) == "Body")
    first = next(c for c in body if isinstance(c.tag, str))
    if ns.local(first.tag) == "Fault":
        detail = next(c for c in first if ns.local(c.tag) in ("detail", "Detail"))
        return next(c for c in detail if isinstance(c.tag, str)), first
    return first, None


def _text(el: etree._Element, *path: str) -> str | None:
    for p in path:
        found = next((c for c in el if isinstance(c.tag, str) and ns.local(c.tag) == p), None)
        if found is None:
            return None
        el = found
    return (el.text or "").strip() or None
