"""What the administration pages read and change: organisations, users, the outbox."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import Organisation, User
from portal.clock import utcnow
from portal.extensions import db
from portal.outbox.models import FAILED, PENDING, OutboxMessage


class NameTaken(ValueError):
    """Another organisation already has this name."""


@dataclass(frozen=True)
class Overview:
    """The figures on the administration home page."""

    users: int
    organisations: int
    failed_mail: int


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def overview() -> Overview:
    return Overview(_count(User), _count(Organisation), _count(OutboxMessage, _failed()))


def _failed():
    return OutboxMessage.status == FAILED


def organisations() -> list[Organisation]:
    """Every organisation, by name."""
    return list(db.session.scalars(select(Organisation).order_by(Organisation.name)))


def organisation(org_id: int) -> Organisation | None:
    return db.session.get(Organisation, org_id)


def save_organisation(org: Organisation | None, name: str, tier: str) -> Organisation:
    """Add an organisation (org None) or rename it and change its tier; NameTaken if the
    name is another's."""
    if org is None:
        org = Organisation()
        db.session.add(org)
    org.name, org.tier = name.strip(), tier
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise NameTaken(name) from None
    return org


def users() -> list[User]:
    """Every account, by role and name."""
    return list(db.session.scalars(select(User).order_by(User.role, User.name)))


def user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def save_user(person: User, name, role, organisation_id, is_org_admin, phone, active) -> None:
    """Change an account's name, role, organisation, phone and whether it may sign in."""
    person.name, person.role = name.strip(), role
    person.organisation_id = organisation_id
    person.is_org_admin, person.phone, person.active = is_org_admin, phone or None, active
    db.session.commit()


def failed_mail() -> list[OutboxMessage]:
    """Letters that could not be delivered, newest first."""
    return list(
        db.session.scalars(select(OutboxMessage).where(_failed()).order_by(OutboxMessage.id.desc()))
    )


def pending_mail() -> int:
    return _count(OutboxMessage, OutboxMessage.status == PENDING)


def letter(message_id: int) -> OutboxMessage | None:
    return db.session.get(OutboxMessage, message_id)


def send_again(message: OutboxMessage) -> bool:
    """Put a failed letter back in the queue; False if it had not failed."""
    if message.status != FAILED:
        return False
    message.status, message.attempts, message.next_attempt_at = PENDING, 0, utcnow()
    db.session.commit()
    return True
