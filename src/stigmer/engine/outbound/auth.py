"""Authentication policies of calls: `basic`, `bearer`, `digest`, `oauth2` and `oidc`.

The workflow replaces a `use: NAME` reference with the policy `use.authentications`
defines and evaluates its expressions (`prepare`); expressions that read `$secrets`, and
secret-based policies (`basic: {use: SECRET}`, the secret holding `username` and
`password`, or `token` for bearer, or the whole `oauth2` policy), are resolved by the
activity (`credentials`). OAuth2 and OpenID Connect get an access token from the
authority (OIDC finds its token endpoint by discovery) for each call, and send it as a
bearer token; a refused token request is the DSL `authentication` error. Every credential
a call sends is added to the call's redactor, so an answer that echoes it is redacted.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import httpx

from stigmer.contract.problems import AUTHENTICATION, CONFIGURATION, Fault, Problem
from stigmer.engine.outbound.remote import Request
from stigmer.engine.outbound.secrets import defer
from stigmer.engine.tasktype import TaskScope

SCHEMES = ("basic", "bearer", "digest", "oauth2", "oidc")
TOKEN_TIMEOUT = 30.0


def prepare(policy: Any, data: Any, scope: TaskScope) -> dict[str, Any] | None:
    """The policy to send to the activity: references followed, expressions evaluated."""
    if policy is None:
        return None
    if isinstance(policy, dict) and set(policy) == {"use"}:
        definition = (scope.args.get("workflow") or {}).get("definition") or {}
        named = ((definition.get("use") or {}).get("authentications") or {}).get(policy["use"])
        if named is None:
            raise Fault(
                Problem.of(
                    CONFIGURATION,
                    f"no authentication policy named {policy['use']!r} in 'use.authentications'",
                    instance=scope.pointer,
                )
            )
        policy = named
    prepared = defer(policy, data, scope)
    return prepared if isinstance(prepared, dict) else None


@dataclass(frozen=True)
class Credentials:
    """A resolved policy: the `Authorization` header, or digest's username and password."""

    header: str | None = None
    digest: tuple[str, str] | None = None


async def credentials(policy: dict[str, Any] | None, request: Request) -> Credentials:
    """Resolve a prepared policy (in the activity), reading secret-based ones."""
    if not policy:
        return Credentials()
    scheme = next((name for name in SCHEMES if name in policy), None)
    if scheme is None:
        raise request.fault(
            CONFIGURATION, f"unsupported authentication {sorted(policy)}; use one of {SCHEMES}"
        )
    settings = policy[scheme] or {}
    if isinstance(settings, dict) and set(settings) == {"use"}:
        secret = request.secret(str(settings["use"]))
        if not isinstance(secret, dict):
            raise request.fault(
                AUTHENTICATION,
                f"secret {settings['use']!r} must be an object with the {scheme} properties",
            )
        settings = secret
    username = password = ""
    if scheme == "bearer":
        token = _field(settings, "token", request)
    elif scheme in ("oauth2", "oidc"):
        token = await _access_token(scheme, settings, request)
    else:
        username = _field(settings, "username", request)
        password = _field(settings, "password", request)
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    # What is sent is a credential, wherever it came from: an answer echoing it is redacted.
    for credential in (token, password):
        request.redactor.add(credential)
    if scheme == "digest":
        return Credentials(digest=(username, password))
    return Credentials(header=f"{'Basic' if scheme == 'basic' else 'Bearer'} {token}")


def _field(settings: Any, key: str, request: Request) -> str:
    value = settings.get(key) if isinstance(settings, dict) else None
    if value is None or isinstance(value, dict | list):
        raise request.fault(AUTHENTICATION, f"authentication needs {key!r} as a string")
    return str(value)


async def _access_token(scheme: str, settings: Any, request: Request) -> str:
    if not isinstance(settings, dict) or not isinstance(settings.get("authority"), str):
        raise request.fault(AUTHENTICATION, f"{scheme} authentication needs an 'authority' URI")
    client_settings = settings.get("client") or {}
    form: dict[str, str] = {"grant_type": str(settings.get("grant", "client_credentials"))}
    for key, name in (("username", "username"), ("password", "password")):
        if key in settings:
            form[name] = str(settings[key])
    if settings.get("scopes"):
        form["scope"] = " ".join(map(str, settings["scopes"]))
    if settings.get("audiences"):
        form["audience"] = " ".join(map(str, settings["audiences"]))
    for role in ("subject", "actor"):
        token = settings.get(role)
        if isinstance(token, dict):
            form[f"{role}_token"] = str(token.get("token", ""))
            form[f"{role}_token_type"] = str(token.get("type", ""))
    basic: httpx.BasicAuth | None = None
    if "id" in client_settings:
        identity = (str(client_settings["id"]), str(client_settings.get("secret", "")))
        if client_settings.get("authentication") == "client_secret_basic":
            basic = httpx.BasicAuth(*identity)
        else:
            form["client_id"], form["client_secret"] = identity
    async with httpx.AsyncClient(timeout=TOKEN_TIMEOUT) as client:
        try:
            endpoint = await _token_endpoint(scheme, settings, client)
            response = await client.post(
                endpoint, data=form, auth=basic or httpx.USE_CLIENT_DEFAULT
            )
        except httpx.HTTPError as exc:
            raise request.fault(
                AUTHENTICATION, f"the {scheme} authority did not answer: {exc}"
            ) from None
    body = _json(response)
    token = body.get("access_token") if isinstance(body, dict) else None
    if response.is_error or not isinstance(token, str):
        reason = (
            body.get("error_description") or body.get("error") if isinstance(body, dict) else None
        )
        raise request.fault(
            AUTHENTICATION,
            f"the {scheme} authority refused a token ({response.status_code}): "
            f"{reason or request.redactor.text(response.text)[:200]}",
        )
    return token


async def _token_endpoint(scheme: str, settings: dict[str, Any], client: httpx.AsyncClient) -> str:
    authority = str(settings["authority"]).rstrip("/")
    if scheme == "oidc":
        discovery = await client.get(f"{authority}/.well-known/openid-configuration")
        discovery.raise_for_status()
        return str(discovery.json()["token_endpoint"])
    endpoint = str((settings.get("endpoints") or {}).get("token", "/oauth2/token"))
    return endpoint if "://" in endpoint else authority + "/" + endpoint.lstrip("/")


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
