"""`portal demo`: one user per role and per tier, coupons, and tickets in every state."""

import datetime as dt

from sqlalchemy import func, select

from portal.accounts.models import Organisation, User
from portal.clock import utcnow
from portal.coupons.services import format_code, issue
from portal.extensions import db
from portal.tickets.models import Message
from portal.tickets.services import NewTicket, file_ticket, record_event, staff_replied

PASSWORD = "demo-password"
AGENT_PHONE = "+7 495 229-14-41"
ORGANISATIONS = [
    ("ООО «Партнёр-Интегратор»", "partner"),
    ("АО «Коммерческий клиент»", "commercial"),
    ("ПАО «Энтерпрайз Холдинг»", "vip"),
]
USERS = [
    # email, name, role, organisation index or None, org admin, phone
    ("admin@demo.example.com", "Анна Админова", "admin", None, False, None),
    (
        "agent@demo.example.com",
        "Сергей Специалистов",
        "agent",
        None,
        False,
        AGENT_PHONE + " доб. 101",
    ),
    (
        "agent2@demo.example.com",
        "Ольга Поддержкина",
        "agent",
        None,
        False,
        AGENT_PHONE + " доб. 102",
    ),
    ("editor@demo.example.com", "Елена Редакторова", "editor", None, False, None),
    ("partner@demo.example.com", "Павел Партнёров", "customer", 0, True, None),
    ("commercial@demo.example.com", "Карина Коммерческая", "customer", 1, True, None),
    ("colleague@demo.example.com", "Игорь Коллегин", "customer", 1, False, None),
    ("vip@demo.example.com", "Виктор Випов", "customer", 2, True, None),
    ("demo@demo.example.com", "Дмитрий Демо", "customer", None, False, None),
]


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(User))


def load_demo(now: dt.datetime | None = None) -> list[tuple[str, str, str]]:
    """Create the demo data; returns (e-mail, role, tier) of each account."""
    now = now or utcnow()
    orgs = [Organisation(name=name, tier=tier) for name, tier in ORGANISATIONS]
    db.session.add_all(orgs)
    db.session.flush()
    users = {}
    for email, name, role, org, org_admin, phone in USERS:
        org_id = orgs[org].id if org is not None else None
        user = User(
            email=email,
            name=name,
            role=role,
            is_org_admin=org_admin,
            phone=phone,
            organisation_id=org_id,
            locale="ru",
        )
        user.set_password(PASSWORD)
        db.session.add(user)
        users[email] = user
    coupon = issue(orgs[2], now - dt.timedelta(days=30))
    db.session.commit()
    agent = users["agent@demo.example.com"]
    day = dt.timedelta(days=1)

    def filed(email, title, text, category, ago, **extra):
        return file_ticket(
            NewTicket(
                author=users[email], title=title, description=text, category=category, **extra
            ),
            now=now - ago,
        )

    filed(
        "commercial@demo.example.com",
        "Не приходят письма из CRM клиентам",
        "С утра письма клиентам из карточки сделки уходят, но не доходят до адресатов. "
        "Ящик подключён по IMAP, SPF настроен.",
        "mail",
        dt.timedelta(hours=3),
        details={"mailbox": "sales@example.ru"},
    )
    filed(
        "partner@demo.example.com",
        "Веб-установщик останавливается на шаге 3",
        "При установке на тестовый сервер мастер зависает на проверке системы.",
        "site",
        dt.timedelta(hours=30),
        criticality="high",
        details={"site_url": "https://test.example.ru"},
    )
    filed(
        "vip@demo.example.com",
        "Сайт недоступен после обновления ядра",
        "После установки обновлений главная страница отдаёт ошибку 500.",
        "site",
        dt.timedelta(minutes=20),
        criticality="critical",
        coupon_code=coupon.code,
        details={"site_url": "https://holding.example.ru"},
    )
    waiting = filed(
        "demo@demo.example.com",
        "Как настроить воронку продаж?",
        "Не понимаю, как добавить новую стадию в воронку сделок.",
        "crm",
        2 * day,
    )
    _reply(
        waiting,
        agent,
        "Стадии добавляются в CRM → Настройки → Воронки. Получилось?",
        now - day,
        "waiting_customer",
    )
    resolved = filed(
        "colleague@demo.example.com",
        "Не звонит телефония через SIP",
        "Исходящие звонки сбрасываются через 30 секунд.",
        "telephony",
        5 * day,
        details={"phone_number": "+7 495 123-45-67"},
    )
    _reply(
        resolved,
        agent,
        "Проблема была в таймере сессии АТС: увеличьте Session-Expires.",
        now - 4 * day,
        "resolved",
    )
    closed = filed(
        "commercial@demo.example.com",
        "Выставить счёт на продление",
        "Нужен счёт на продление тарифа на год.",
        "billing",
        20 * day,
    )
    _reply(closed, agent, "Счёт отправлен на почту бухгалтерии.", now - 19 * day, "closed")
    db.session.commit()
    print_coupon = format_code(coupon.code)
    accounts = [(e, r, users[e].tier) for e, _, r, *_ in USERS]
    accounts.append(("coupon", print_coupon, orgs[2].name))
    return accounts


def _reply(ticket, agent, text, at, status):
    db.session.add(
        Message(ticket=ticket, author_id=agent.id, body=text, by_staff=True, created_at=at)
    )
    staff_replied(ticket, at)
    ticket.assignee_id, ticket.last_public_by_staff = agent.id, True
    record_event(ticket, agent, "status", ticket.status, status, at)
    ticket.status = status
    if status in ("resolved", "closed"):
        ticket.resolved_at = at
    if status == "closed":
        ticket.closed_at = at
