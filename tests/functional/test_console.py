"""The specialists' console: the queue's deadline filters and taking tickets."""

import datetime as dt

from sqlalchemy import insert, select

from portal.clock import utcnow
from portal.extensions import db
from portal.tickets.models import Ticket, TicketEvent
from portal.tickets.services import NewTicket, file_ticket
from tests.factories import csrf_token, make_user, sign_in


def test_an_overdue_ticket_behind_five_hundred_others_is_still_listed_as_overdue(app, client):
    with app.app_context():
        customer, agent = make_user(), make_user("agent")
        now = utcnow()
        overdue = file_ticket(
            NewTicket(author=customer, title="Forgotten", description="x", category="crm"),
            now=now - dt.timedelta(days=30),
        ).number
        # Five hundred and one critical tickets come first in the queue, none of them late.
        db.session.execute(
            insert(Ticket),
            [
                {
                    "number": f"2099-{i:06d}",
                    "author_id": customer.id,
                    "title": "Urgent",
                    "category": "crm",
                    "details": {},
                    "criticality": "critical",
                    "service_level": "standard",
                    "tier": "noncommercial",
                    "channel": "web",
                    "status": "new",
                    "lang": "ru",
                    "awaiting_since": now,
                    "response_due": now + dt.timedelta(days=3),
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(501)
            ],
        )
        db.session.commit()
    sign_in(client, agent)
    assert overdue not in client.get("/agent/queue").get_data(as_text=True)
    for deadline in ("overdue", "at_risk"):
        page = client.get(f"/agent/queue?overdue={deadline}").get_data(as_text=True)
        assert overdue in page and "2099-000001" not in page


def test_a_closed_ticket_cannot_be_taken_and_offers_no_button(app, client):
    with app.app_context():
        customer, agent = make_user(), make_user("agent")
        ticket = file_ticket(
            NewTicket(author=customer, title="Done", description="x", category="crm")
        )
        ticket.status = "closed"
        db.session.commit()
        number = ticket.number
    sign_in(client, agent)
    page = client.get(f"/requests/{number}").get_data(as_text=True)
    assert f"/agent/tickets/{number}/take" not in page
    client.post(
        f"/agent/tickets/{number}/take", data={"csrf_token": csrf_token(client, "/agent/queue")}
    )
    with app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket.assignee_id is None and ticket.status == "closed"
        kinds = set(db.session.scalars(select(TicketEvent.kind)))
        assert "assignee" not in kinds
