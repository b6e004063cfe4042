"""Parsing incoming e-mail: a corpus of real-world messages, reply trimming, machines, fuzzing."""

import contextlib
import email
import email.policy
import random
from dataclasses import dataclass
from pathlib import Path

import pytest

from portal.mail.inbound import (
    InboundError,
    InboundMessage,
    is_automatic,
    parse_message,
    trim_reply,
)
from portal.mail.tokens import find_ticket_number, subject_number

MAIL = Path(__file__).resolve().parent.parent / "data" / "mail"
SECRET = "test-secret"  # the secret the corpus's plus-address tokens were signed with
REASONS = {"empty", "too_large", "no_sender", "no_text", "malformed"}


@dataclass(frozen=True)
class Fails:
    reason: str


def read(name: str) -> bytes:
    return (MAIL / f"{name}.eml").read_bytes()


PNG, PDF = ("screen.png", "image/png"), ("Счёт № 15.pdf", "application/pdf")
# file, sender, subject, phrase in body, phrase only in full_body (quoted text),
# attachments, automatic reason (its header) or None, or Fails(reason)
# fmt: off
CASES = [
    # charsets and transfer encodings
    ("plain_utf8", "ivan@example.com", "Не работает вход", "«неверный пароль»", None, [], None),
    ("koi8r", "olga@example.ru", "Счёт за март", "выставить счёт", None, [], None),
    ("koi8r_no_charset", "anna@example.ru", "Vopros", "сменить тариф", None, [], None),
    ("cp1251_no_charset", "petr@example.ru", "Ошибка при оплате", "Что делать?", None, [], None),
    ("cp1251_qp", "sergey@example.ru", "Заявка на подключение", "№ 15/2026", None, [], None),
    ("ascii_8bit", "ivan@example.com", "ASCII", "а текст в windows-1251", None, [], None),
    ("utf8_mislabelled", "ivan@example.com", "Mislabelled", "а текст в KOI8-R", None, [], None),
    ("charset_win1251_alias", "ivan@example.com", "Опечатка в кодировке", "как win-1251", None,
     [], None),
    ("charset_utf8_alias", "ivan@example.com", "utf8 alias", "Кодировка указана", None, [], None),
    ("unknown_charset", "ivan@example.com", "Неизвестная кодировка", "на самом деле", None,
     [], None),
    ("iso8859_5", "ivan@example.com", "Кодировка ISO", "старого почтового", None, [], None),
    ("cp866", "ivan@example.com", "DOS", "досовской кодировке", None, [], None),
    ("encoded_word_broken", "ivan@example.com", "Привет and мир", "сломаны", None, [], None),
    ("broken_base64", "maria@example.ru", "Password", "уже второй день", None, [], None),
    ("crlf", "ivan@example.com", "Перевод строк", "мягким переносом.\nВторая", None, [], None),
    ("huge_line", "ivan@example.com", "Log", "End of log.", None, [], None),
    ("garbage_addresses", "ivan@example.com", "", "Hello?", None, [], None),
    # replies: the quoted history is only in full_body
    ("gmail_reply_ru", "ivan@gmail.example", "Re: [#2026-000123] Не работает вход",
     "теперь всё работает", "сбросить пароль", [], None),
    ("gmail_reply_en", "mark@gmail.example", "Re: Refund", "Got it", "refund has been", [], None),
    ("outlook_original_message", "john.smith@corp.example", "RE: Invoice question",
     "old address.\n\nRegards,\nJohn", "updated your billing", [], None),
    ("outlook_from_sent", "john@corp.example", "RE: Access", "Access works", "reset your", [],
     None),
    ("outlook_reply_ru", "buh@corp.example.ru", "RE: Акт сверки", "отправим почтой",
     "первый квартал", [], None),
    ("thunderbird_reply_en", "jane@example.org", "Re: VPN setup", "speed is very low",
     "reinstall the client", [], None),
    ("thunderbird_reply_ru", "olga@example.ru", "Re: Tariff", "Тариф поменялся", "на годовой",
     [], None),
    ("yandex_reply", "ivan@yandex.example", "Re: Backup", "копия создалась", "вручную", [], None),
    ("mailru_html_only", "ivan@mail.example.ru", "Re: Оплата",
     "описание:\n1. Открываю страницу\n2. Нажимаю «Оплатить»", "Уточните", [], None),
    ("signature_dashes", "ivan@example.com", "Backup failed", "не прошло ночью", "Ромашка", [],
     None),
    ("signature_iphone", "ivan@example.com", "Сайт недоступен", "с утра", "iPhone", [], None),
    # structure: alternatives, attachments, forwards
    ("alternative", "kate@example.com", "Two versions", "Текстовая версия", None, [], None),
    ("alternative_empty_plain", "ivan@example.com", "Empty plain", "Только HTML в cp1251", None,
     [], None),
    ("attachments", "ivan@example.com", "Screenshot and invoice", "во вложении", None,
     [PNG, PDF], None),
    ("attachment_path", "ivan@example.com", "Path", "Файл во вложении", None,
     [("отчёт.txt", "text/plain")], None),
    ("attachment_only", "ivan@example.com", "Scan", "", None, [("scan.pdf", "application/pdf")],
     None),
    ("inline_image", "ivan@example.com", "Inline", "выглядит ошибка:\nЧто это?", None,
     [("image1.png", "image/png")], None),
    ("forwarded_rfc822", "ivan@example.com", "Fwd: Платёж отклонён",
     "Subject: Платёж отклонён\nTo: ivan@example.com\n\nВаш платёж", None, [], None),
    # threading
    ("subject_tag", "ivan@example.com", "Re: [#2026-000123] Не работает вход", "снова", None, [],
     None),
    ("plus_address", "ivan@example.com", "Re: Your request", "вопрос решён", None, [], None),
    ("threading", "ivan@example.com", "Re: Re: Backup", "Спасибо", None, [], None),
    # machines
    ("ooo_ru", "director@corp.example.ru", "Автоматический ответ: Re: Акт сверки", "в отпуске",
     None, [], "subject"),
    ("ooo_en", "john.smith@corp.example", "Out of Office: Invoice question", "out of the office",
     None, [], "auto-submitted"),
    ("bounce_report", "mailer-daemon@mx.portal.example", "Undelivered Mail Returned to Sender",
     "could not be delivered", None, [], "content-type"),
    ("newsletter", "news@shop.example", "Скидки недели", "скидки до 50%", None, [], "list"),
    # not a ticket
    ("no_from", None, None, None, None, None, Fails("no_sender")),
    ("empty", None, None, None, None, None, Fails("empty")),
    ("headers_only", None, None, None, None, None, Fails("no_text")),
]
# fmt: on


def test_every_corpus_file_has_a_case():
    assert sorted(path.stem for path in MAIL.glob("*.eml")) == sorted(case[0] for case in CASES)
    assert len(CASES) >= 30


@pytest.mark.parametrize(
    ("name", "sender", "subject", "says", "quoted", "attachments", "outcome"),
    CASES,
    ids=[case[0] for case in CASES],
)
def test_corpus(name, sender, subject, says, quoted, attachments, outcome):
    if isinstance(outcome, Fails):
        with pytest.raises(InboundError) as caught:
            parse_message(read(name))
        assert caught.value.reason == outcome.reason
        return
    message = parse_message(read(name))
    assert (message.sender, message.subject) == (sender, subject)
    assert says in message.body
    assert message.body in message.full_body or name == "forwarded_rfc822"
    if quoted:
        assert quoted not in message.body
        assert quoted in message.full_body
    assert [(a.filename, a.content_type) for a in message.attachments] == attachments
    if outcome is None:
        assert message.automatic is None
    else:
        assert message.automatic.startswith(f"{outcome}: ")
    assert message.body == message.body.rstrip()
    assert "\r" not in message.full_body
    assert "\ufffd" not in message.body + message.subject + message.sender_name


def test_display_names_are_decoded():
    assert parse_message(read("plain_utf8")).sender_name == "Иван Петров"
    assert parse_message(read("koi8r")).sender_name == "Ольга"
    assert parse_message(read("cp1251_qp")).sender_name == "Сергей"
    assert parse_message(read("cp1251_no_charset")).sender_name == "Пётр"  # raw 8-bit
    assert parse_message(read("outlook_original_message")).sender_name == "Smith, John"
    assert parse_message(read("encoded_word_broken")).sender_name.startswith("Иван П")
    assert parse_message(read("threading")).sender_name == ""


def test_thread_identifiers():
    message = parse_message(read("threading"))
    assert message.message_id == "<CAB+reply-1@mail.gmail.example>"
    assert message.in_reply_to == ["<t.2026-000123.aaaa@portal.example>"]
    assert message.references == [
        "<first@portal.example>",
        "<t.2026-000123.aaaa@portal.example>",
        "<third@portal.example>",
    ]
    assert parse_message(read("garbage_addresses")).message_id is None


def test_recipients_carry_the_plus_address_token():
    message = parse_message(read("plus_address"))
    assert message.recipients[1:] == ["boss@example.com"]
    assert message.recipients[0].startswith("support+2026-000123.")
    assert find_ticket_number(" ".join(message.recipients), SECRET) == "2026-000123"
    assert parse_message(read("garbage_addresses")).recipients == ["support@portal.example"]


def test_subject_tag_survives_decoding():
    assert subject_number(parse_message(read("subject_tag")).subject) == "2026-000123"


def test_attachment_bytes_are_decoded():
    png, pdf = parse_message(read("attachments")).attachments
    assert png.data.startswith(b"\x89PNG\r\n")
    assert pdf.data.startswith(b"%PDF-1.4") and pdf.data.endswith(b"%%EOF\n")
    (log,) = parse_message(read("attachment_path")).attachments
    assert log.data == b"line 1\nline 2"


def test_html_drops_scripts_and_marks_blockquotes():
    message = parse_message(read("mailru_html_only"))
    assert "alert" not in message.full_body and "color:red" not in message.full_body
    assert "- Chrome\n- Firefox" in message.body
    assert "> Уточните, пожалуйста, браузер." in message.full_body
    assert "Иван" not in message.body  # the "--" signature


def test_forwarded_message_keeps_its_text_and_headers():
    message = parse_message(read("forwarded_rfc822"))
    assert message.body.startswith("Посмотрите, что пришло от банка.\n\n---------- Forwarded")
    assert "From: Bank <noreply@bank.example>" in message.body
    assert message.automatic is None  # the bank's noreply is inside, not the sender


def test_size_and_type_limits():
    with pytest.raises(InboundError) as caught:
        parse_message(read("plain_utf8"), max_bytes=100)
    assert caught.value.reason == "too_large"
    assert "100" in str(caught.value)
    for raw, reason in ((b" \r\n\r\n", "empty"), ("From: a@b.c\n\nhi", "malformed")):
        with pytest.raises(InboundError) as caught:
            parse_message(raw)
        assert caught.value.reason == reason
    assert parse_message(bytearray(read("plain_utf8"))).sender == "ivan@example.com"


def test_a_failing_default_policy_falls_back_to_compat32(monkeypatch):
    def broken_parser(name, value):
        raise IndexError("a header parser bug")

    broken = email.policy.default.clone(header_factory=broken_parser)
    monkeypatch.setattr(email.policy, "default", broken)
    message = parse_message(read("attachments"))
    assert message.subject == "Screenshot and invoice"
    assert [a.filename for a in message.attachments] == ["screen.png", "Счёт № 15.pdf"]


# --- trim_reply ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Thanks\n\n-----Original Message-----\nFrom: a\nSent: b\n\nold", "Thanks"),
        ("Спасибо\r\n\r\n-----Исходное сообщение-----\r\nОт: a\r\n\r\nстарое", "Спасибо"),
        ("FYI\n\n---------- Forwarded message ---------\nFrom: a <a@b.c>\n\nold", "FYI"),
        ("См. ниже\n\n-------- Пересылаемое сообщение --------\n02.03.2026, a\nold", "См. ниже"),
        (
            "Fixed.\n\nFrom: Support <s@p.example>\nSent: Monday, March 2, 2026\nTo: me\n\nold",
            "Fixed.",
        ),
        ("Готово.\n________________________________\nОт: a\nОтправлено: 2 марта\n\nold", "Готово."),
        ("Done.\nFrom: Support Sent: Monday, March 2, 2026 10:15 To: me\nold", "Done."),
        ("Ok\n\nOn Mon, 2 Mar 2026 at 10:15, Ivan <i@x.example> wrote:\n> q", "Ok"),
        ("Ok\n\nOn Mon, Mar 2, 2026 at 10:15 AM Ivan Petrov <i@x.example>\nwrote:\n> q", "Ok"),
        ("Да\n\n02.03.2026 10:15, Иван пишет:\n> вопрос", "Да"),
        ("Да\n\n2 марта 2026 г., 10:15 пользователь Иван <i@x.ru>\nнаписал:\n> вопрос", "Да"),
        ("Да\n\nПн, 2 мар. 2026 г. в 10:15, Иван Петров <i@x.ru>:\n> вопрос", "Да"),
        ("Да\n\nПонедельник, 2 марта 2026, 10:15 +03:00 от Иван <i@x.ru>:\nвопрос", "Да"),
        ("Хорошо\n\n02.03.2026, 10:15, Иван Петров написал(а):\nвопрос", "Хорошо"),
        ("answer\n> quoted one\n> quoted two\nmore", "answer"),
        ("answer\n\n> the only quoted line\n\n", "answer"),
        ("text\n-- \nIvan", "text"),
        ("text\n--\nIvan", "text"),
        ("text\n\nSent from my iPhone", "text"),
        ("text\n\nОтправлено с iPhone", "text"),
        ("text\n\nОтправлено из мобильной Почты Mail.ru", "text"),
        ("text\n\nSent from Yandex Mail", "text"),
        ("text\n\nGet Outlook for Android", "text"),
        ("text  \n\n  ", "text"),
    ],
)
def test_trim_reply_cuts_at_markers(text, kept):
    assert trim_reply(text) == kept


@pytest.mark.parametrize(
    "text",
    [
        "My colleague wrote:\nthe server is down",  # no date: not an attribution
        "Look at this:\n> a single quoted line\nand my answer below it",
        "Prices:\n---\n10 items",
        "Sent from the warehouse yesterday, still not here.",
        "Call me at 10:15.\nIvan wrote: hello",
        "1 > 0, always",
    ],
)
def test_trim_reply_keeps_ordinary_text(text):
    assert trim_reply(text) == text


@pytest.mark.parametrize("text", ["> only\n> quoted", "-- \nsignature only", "Sent from my iPhone"])
def test_trim_reply_never_leaves_nothing(text):
    assert trim_reply(text + "\n") == text


# --- is_automatic -------------------------------------------------------------------------------


def message(headers: str, policy=email.policy.default):
    return email.message_from_bytes(
        f"From: Ivan <ivan@example.com>\n{headers}\n\nbody\n".encode(), policy=policy
    )


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("Auto-Submitted: auto-replied", "auto-submitted: auto-replied"),
        ("Auto-Submitted: auto-generated", "auto-submitted: auto-generated"),
        ("Precedence: bulk", "precedence: bulk"),
        ("Precedence: junk", "precedence: junk"),
        ("Precedence: auto_reply", "precedence: auto_reply"),
        ("Precedence: list\nList-Id: <news.shop.example>", "list: precedence list"),
        ("Precedence: bulk\nList-Unsubscribe: <mailto:u@x.example>", "list: precedence bulk"),
        ("X-Autoreply: yes", "x-autoreply: yes"),
        ("X-Autorespond: vacation", "x-autorespond: vacation"),
        ("X-Auto-Response-Suppress: DR, OOF, AutoReply", "x-auto-response-suppress: dr, oof"),
        ("X-Auto-Response-Suppress: All", "x-auto-response-suppress: all"),
        ("Content-Type: multipart/report; report-type=delivery-status", "content-type"),
        ("Subject: Automatic reply: Invoice", "subject: automatic reply"),
        (
            "Subject: =?utf-8?B?0JDQstGC0L7QvNCw0YLQuNGH0LXRgdC60LjQuSDQvtGC0LLQtdGCOiDQkNC60YI=?=",
            "subject: автоматический ответ",
        ),
        ("Subject: Out of Office: Invoice", "subject: out of office"),
        ("Subject: Undeliverable: Invoice", "subject: undeliverable"),
        ("Subject: Delivery Status Notification (Failure)", "subject: delivery status"),
        (
            "Subject: =?utf-8?B?0J3QtdC00L7RgdGC0LDQstC70LXQvdC90L7QtSDRgdC+0L7QsdGJ0LXQvdC40LU=?=",
            "subject: недоставленное сообщение",
        ),
    ],
)
def test_is_automatic_reasons(headers, reason):
    assert is_automatic(message(headers)).startswith(reason)
    assert is_automatic(message(headers, email.policy.compat32)).startswith(reason)


@pytest.mark.parametrize(
    "sender",
    [
        "MAILER-DAEMON@mx.example",
        "postmaster@example.com",
        "noreply@shop.example",
        "no-reply+x@shop.example",
        "do-not-reply@bank.example",
    ],
)
def test_is_automatic_from_machines(sender):
    msg = email.message_from_bytes(f"From: {sender}\n\nbody".encode(), policy=email.policy.default)
    assert is_automatic(msg) == f"from: {sender.lower()}"


@pytest.mark.parametrize(
    "headers",
    [
        "Subject: Help with my invoice",
        "Auto-Submitted: no",
        "Subject: Re: Automatic reply: Invoice",  # a person answering an auto-reply
        "List-Id: <team.example.com>",  # a person's mail through a discussion list
        "X-Auto-Response-Suppress: DR, RN",
        "Precedence: first-class",
    ],
)
def test_is_automatic_ordinary_mail(headers):
    assert is_automatic(message(headers)) is None


# --- robustness ---------------------------------------------------------------------------------

# fmt: off
NASTY = [
    b"=?", b"?=", b"=?utf-8?B?", b"=?x-bad?Q?", b"\r", b"\n", b"\n\n", b"\x00", b"<", b">", b'"',
    b";", b":", b"*0*=", b"''", b"\n--", b"--\n", b"\xff\xfe", b"\xd0", b"=\n", b"=ZZ",
    b'\nContent-Type: multipart/mixed; boundary="b"\n', b"\n--b\n", b"\n--b--\n",
    b"\nContent-Transfer-Encoding: base64\n", b"\nContent-Type: message/rfc822\n\n",
    b"\nContent-Type: text/html; charset=idna\n", b"charset*=''", b"filename*0*=bad''%ZZ",
    b"<![CDATA[", b"<!--", b"<script>", b"&#xFFFFFFFF;", b'\nFrom: "\n', b"\nTo: <@>,,\n",
]
# fmt: on


def mutations(seed: int, count: int):
    rng = random.Random(seed)
    seeds = [p.read_bytes() for p in sorted(MAIL.glob("*.eml")) if p.stat().st_size < 20_000]
    for _ in range(count):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 6)):
            kind, at = rng.randrange(6), rng.randint(0, len(data))
            if kind == 0:
                data[at:at] = rng.choice(NASTY)
            elif kind == 1 and data:
                data[min(at, len(data) - 1)] = rng.randrange(256)
            elif kind == 2:
                del data[at : at + rng.randint(1, 200)]
            elif kind == 3:
                data = data[:at]
            elif kind == 4:
                data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
            else:
                other = rng.choice(seeds)
                data[at:] = other[rng.randint(0, len(other)) :]
        yield bytes(data)
    for _ in range(50):
        yield bytes(rng.randrange(256) for _ in range(rng.randint(0, 500)))


def test_fuzzed_bytes_give_a_message_or_an_inbound_error():
    for number, raw in enumerate(mutations(seed=20260302, count=400)):
        raw = raw if number % 2 else b"From: a@b.example\n" + raw  # so that bodies are read too
        try:
            result = parse_message(raw)
        except InboundError as exc:
            assert exc.reason in REASONS
        else:
            assert isinstance(result, InboundMessage)
            assert isinstance(result.body, str) and isinstance(result.subject, str)
            assert all(isinstance(a.data, bytes) and a.filename for a in result.attachments)


def test_hostile_shapes_stay_fast():
    sender = b"From: a@b.example\nSubject: x\n"
    for raw in (
        b"From: " + b"a" * 300_000 + b"@\n\nhi\n",
        sender + b"Content-Type: text/html\n\n" + b"<blockquote><br>" * 20_000,
        sender + b"\n" + b"> x\n\n" * 50_000 + b"end\n",
        sender + b"Subject: " + b"=?utf-8?B?0J8=?= " * 100_000 + b"\n\nhi\n",
    ):
        with contextlib.suppress(InboundError):
            parse_message(raw)


def test_deep_nesting_is_cut_short():
    raw = b"From: a@b.example\nSubject: deep\n" + b"".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n'.encode() for i in range(300)
    )
    raw += b"Content-Type: text/plain\n\ntoo deep to read\n"
    try:
        result = parse_message(raw)
    except InboundError as exc:
        assert exc.reason in {"no_text", "malformed"}
    else:
        assert "too deep" not in result.body


CONTROLS = "".join(chr(c) for c in range(0x01, 0x1C))


def test_control_characters_are_dropped_from_the_subject_and_the_body():
    raw_subject = CONTROLS.replace("\r", "").replace("\n", "")  # a raw header keeps its line
    encoded = "".join(f"={c:02X}" for c in range(0x01, 0x1C))
    raw = (
        f"From: ivan@example.com\r\nSubject: Printer{raw_subject}jam =?utf-8?q?{encoded}?= end\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\n\r\n'
        f"Paper{CONTROLS}jam\r\nline\ttwo\x7f\x85\r\n"
    ).encode()
    message = parse_message(raw)
    for text in (message.subject, message.body, message.full_body):
        assert not set(text) & (set(CONTROLS) - {"\t", "\n"}), repr(text)
        assert not set(text) & {"\x7f", "\x85"}
    assert message.subject == "Printer jam end"
    assert message.body == "Paper\t\n\njam\nline\ttwo"  # its CR and LF stay line breaks


def test_control_characters_are_dropped_from_an_html_body():
    raw = (
        b"From: ivan@example.com\r\nSubject: x\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<p>Paper\x01\x08\x0b\x0c\x1b jam</p>"
    )
    assert parse_message(raw).body == "Paper jam"
