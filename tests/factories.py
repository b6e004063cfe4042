"""Test data built through the portal's own models and services."""

import itertools
import re

from portal.accounts.models import Organisation, User
from portal.extensions import db

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def make_org(tier: str = "commercial", name: str | None = None) -> Organisation:
    org = Organisation(name=name or f"Org {next(_seq)}", tier=tier)
    db.session.add(org)
    db.session.commit()
    return org


def make_user(role: str = "customer", org: Organisation | None = None, **fields) -> User:
    n = next(_seq)
    user = User(
        email=fields.pop("email", f"user{n}@example.com"),
        name=fields.pop("name", f"User {n}"),
        role=role,
        organisation_id=org.id if org else None,
        **fields,
    )
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user


CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, url: str) -> str:
    """The CSRF token of the form on a page, as a browser would send it back."""
    page = client.get(url).get_data(as_text=True)
    match = CSRF_INPUT.search(page)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def sign_in(client, user: User, password: str = PASSWORD):
    """Sign in through the real form, CSRF token included."""
    token = csrf_token(client, "/signin")
    return client.post("/signin", data={"csrf_token": token, "email": user.email,
                                        "password": password})  # fmt: skip
