"""The read API's settings: each default, variable and meaning written once, here."""

from __future__ import annotations

from dataclasses import dataclass

from rollwise.config import setting


@dataclass(frozen=True)
class ApiSettings:
    jwks: str = setting(
        "",
        "ROLLWISE_API_JWKS",
        "the JSON Web Key Set tokens are verified with: a URL or a file "
        "(the deployed API's JWT authorizer verifies them there; the app checks the claims)",
    )
    issuer: str = setting("", "ROLLWISE_API_ISSUER", "the tokens' issuer (iss), e.g. a Cognito user pool's URL")
    audience: str = setting("", "ROLLWISE_API_AUDIENCE", "the tokens' audience (aud, or a Cognito access token's client_id)")
    tenant_claim: str = setting("custom:tenant_id", "ROLLWISE_API_TENANT_CLAIM", "the claim naming the caller's tenant")
    admin_group: str = setting(
        "rollwise-admin",
        "ROLLWISE_API_ADMIN_GROUP",
        "a group (cognito:groups) or scope whose tokens may read every tenant and the merge job's windows",
    )
    cursor_secret: str = setting(
        "",
        "ROLLWISE_API_CURSOR_SECRET",
        "the key page cursors are signed with (HS256); empty: a "
        "random key per process, so a cursor only works on the instance that gave it (the stack gives every "
        "instance of the function the same key)",
        secret=True,
    )

    def cursor_key(self) -> str:
        """The key cursors are signed with: the one set, else a random one for this process."""
        import secrets

        return self.cursor_secret or secrets.token_urlsafe(32)


# A request waits this long in all for a throttled or failing table before it answers 503: API Gateway gives an
# integration 30 s, and a reader would rather retry than wait.
RETRY_SECONDS = 5
