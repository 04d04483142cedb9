"""Bearer tokens: issued and checked with the hub's key, bound to the hub, expiring, with roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from shared.auth import Principal, decode_token, issue_token, require
from shared.clock import FixedClock
from shared.settings import Settings

settings = Settings()


def test_a_token_names_its_subject_role_and_regions():
    principal = decode_token(settings, issue_token(settings, "anna", "advisor", regions=["drenthe"]))
    assert (principal.subject, principal.role, principal.regions) == ("anna", "advisor", ["drenthe"])


def test_a_staff_token_names_the_account_id_with_the_email_as_a_claim_of_its_own():
    token = issue_token(settings, "7", "advisor", regions=["drenthe"], email="sanne@edih-noord.nl")
    principal = decode_token(settings, token)
    assert (principal.subject, principal.email) == ("7", "sanne@edih-noord.nl")
    claims = jwt.decode(token, settings.jwt_secret, algorithms=[settings.jwt_algorithm])
    assert (claims["sub"], claims["email"]) == ("7", "sanne@edih-noord.nl")
    assert decode_token(settings, issue_token(settings, "journey", "service")).email is None


def test_an_expired_token_is_refused():
    long_ago = FixedClock(datetime(2020, 1, 1, tzinfo=UTC))
    token = issue_token(settings, "anna", "admin", ttl=timedelta(minutes=5), clock=long_ago)
    with pytest.raises(jwt.ExpiredSignatureError):
        decode_token(settings, token)


def test_a_token_of_another_hub_or_key_is_refused():
    other_hub = Settings(hub_id="be-flanders")
    with pytest.raises(jwt.InvalidTokenError, match="another hub"):
        decode_token(settings, issue_token(other_hub, "x", "admin"))
    other_key = Settings(jwt_secret="another-key-of-at-least-thirty-two-bytes")
    with pytest.raises(jwt.InvalidSignatureError):
        decode_token(settings, issue_token(other_key, "x", "admin"))


def test_production_refuses_the_development_secret():
    with pytest.raises(ValueError, match="EDIH_JWT_SECRET"):
        Settings(environment="production", database_url="postgresql://db/edih")


def test_an_endpoint_answers_401_without_and_403_with_the_wrong_role():
    app = FastAPI()
    app.state.settings = settings

    @app.get("/admin-only")
    def admin_only(who: Principal = Depends(require("admin"))) -> dict[str, str]:
        return {"hello": who.subject}

    client = TestClient(app)
    assert client.get("/admin-only").status_code == 401
    viewer = issue_token(settings, "v", "viewer")
    refused = client.get("/admin-only", headers={"Authorization": f"Bearer {viewer}"})
    assert refused.status_code == 403 and "admin" in refused.json()["detail"]
    admin = issue_token(settings, "a", "admin")
    assert client.get("/admin-only", headers={"Authorization": f"Bearer {admin}"}).json() == {"hello": "a"}
