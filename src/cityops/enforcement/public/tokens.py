"""The business's token (企业访问令牌): proof that whoever holds it read the code sent to the
phone registered for one business, signed, short-lived and good for that business only.

It is not a staff token: it names a business, not an account, and carries an audience of
its own, so neither kind of token is taken for the other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from cityops.errors import Unauthorized

ALGORITHM = "HS256"
AUDIENCE = "cityops:enforcement-business"
# Long enough to read the notices and upload proof; short, because whoever holds the phone
# can always ask for a new code.
TTL = timedelta(minutes=30)


@dataclass(frozen=True)
class BusinessClaims:
    """Who a business token speaks for, and until when."""

    business_id: int
    credit_code: str
    expires_at: datetime


def issue(business_id: int, credit_code: str, *, secret: str, now: datetime) -> str:
    """A token for the business, good for `TTL` from `now`."""
    claims = {
        "sub": str(business_id),
        "cc": credit_code,
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + TTL).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read(token: str, *, secret: str, now: datetime) -> BusinessClaims:
    """The claims of a valid, unexpired business token; Unauthorized otherwise. Expiry is
    judged by the application's clock, which issued the token, not the wall clock."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], audience=AUDIENCE,
            options={"require": ["exp", "sub", "cc", "aud"], "verify_exp": False,
                     "verify_iat": False},
        )  # fmt: skip
        business_id = int(claims["sub"])
        credit_code = str(claims["cc"])
        expires = int(claims["exp"])
    except (jwt.PyJWTError, KeyError, ValueError, TypeError):
        raise Unauthorized("business token: invalid; sign in again with a new code") from None
    if now.timestamp() >= expires:
        raise Unauthorized("business token: expired; sign in again with a new code")
    return BusinessClaims(business_id, credit_code, datetime.fromtimestamp(expires, now.tzinfo))
