import json
import os
from pathlib import Path

import pytest

from portal.kb.analysis import language_of
from portal.kb.vectors import word_vectors
from portal.scope import (
    DEFAULT_CASES,
    Pattern,
    RulesError,
    ScopeResult,
    classify,
    evaluate,
    load_cases,
    load_rules,
    load_sections,
    meaning_of,
)

CASES = DEFAULT_CASES
SERVER = "сервер|хостинг|vps|server|hosting"


def found(pattern: str, text: str, window: int = 6) -> bool:
    return Pattern.parse(pattern, window, {"server": SERVER}).found_in(text)


# --- the pattern language ----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "установить на сервер",
        "установка на наш сервер",
        "Установите, пожалуйста, Битрикс на VPS",
        "на новый хостинг установите продукт",
        "устанавливать на сервер",
    ],
)
def test_russian_word_forms_and_order_meet(text):
    assert found("установить|инсталлировать ~ @server", text)


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        ("install ~ @server", "install Bitrix on my VPS"),
        ("install ~ @server", "installing it on two servers"),
        ("перенести|перенос ~ архив* ~ @server", "перенести архив сайта на хостинг"),
        ("перенести|перенос ~ архив* ~ @server", "Перенос архива на новый сервер"),
        ("move ~ backup ~ @server", "move our site backup to a new server"),
        ("move ~ backup ~ @server", "the backup: please move it to the server"),
    ],
)
def test_phrases_match_across_forms(pattern, text):
    assert found(pattern, text)


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("установить ... сервер", "установить на сервер", True),
        ("установить ... сервер", "на сервер установить", False),  # "..." keeps the order
        ("установить ~ сервер", "на сервер установить", True),  # "~" does not
        ("установить ...2 сервер", "установить продукт на наш новый сервер", False),
        ("установить ...6 сервер", "установить продукт на наш новый сервер", True),
        ("не работает", "почта не работает", True),
        ("не работает", "не очень работает", False),  # adjacent words only
        ("как ...2 установить", "Как установить битрикс?", True),  # stop word, exact
        ("инсталл*", "инсталляция", True),
        ("инсталл*", "установка", False),
        ("install", "installation", True),
        ("=install", "installation", False),
        ("=install", "please install it", True),
        ("set-up", "set up the server", True),
        ("set-up", "a set-up wizard", True),
        ("set-up", "set the value up", False),
        ("ёлка", "елку", True),
    ],
)
def test_operators(pattern, text, expected):
    assert found(pattern, text) is expected


@pytest.mark.parametrize("bad", ["... сервер", "установить ~", "a ~ ~ b", "a|", "@nolist", ""])
def test_bad_patterns_are_refused(bad):
    with pytest.raises(ValueError):
        Pattern.parse(bad, 6, {"server": SERVER})


# --- rules are configuration -------------------------------------------------

RULE_FILE = """
in_scope: {ru: В рамках., en: In scope.}
special: {ru: По купону., en: Coupon.}
words:
  pet: {ru: кошка|собака, en: cat|dog}
rules:
  - id: pets
    verdict: consultation
    only_tiers: [noncommercial]
    patterns:
      ru: ['@pet ~ накормить']
      en: ['feed ... @pet']
    reason: {ru: Про животных., en: About pets.}
    links:
      en: [{title: Pets, url: /kb/pets}]
"""


def test_a_rules_file_is_applied_generically(tmp_path):
    path = tmp_path / "rules.yml"
    path.write_text(RULE_FILE, "utf-8")
    rules = load_rules(path)
    assert [r.id for r in rules.rules] == ["pets"]
    result = classify("please feed the dogs", tier="noncommercial", rules=rules)
    assert result == ScopeResult(
        "consultation", "pets", "About pets.", rules.rules[0].links["en"], "en"
    )
    assert classify("накормите собаку", tier="noncommercial", rules=rules).rule == "pets"
    assert classify("please feed the dogs", tier="partner", rules=rules).verdict == "in_scope"
    assert classify("the dogs feed", tier="noncommercial", rules=rules).reason == "In scope."


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("verdict: consultation", "rule pets: verdict"),
        ("only_tiers: [noncommercial]", "unknown tiers"),
        ("patterns:", "unknown keys"),
        ("reason: {ru: Про животных., en: About pets.}", "reason needs ru and en"),
        ("ru: ['@pet ~ накормить']", "pattern"),
    ],
)
def test_a_broken_rules_file_names_the_rule(tmp_path, change, message):
    broken = {
        "verdict: consultation": "verdict: maybe",
        "only_tiers: [noncommercial]": "only_tiers: [gold]",
        "patterns:": "patterns:\n    unles: [x]\n    patterns_:",
        "reason: {ru: Про животных., en: About pets.}": "reason: {ru: Про животных.}",
        "ru: ['@pet ~ накормить']": "ru: ['@cow ~ накормить']",
    }[change]
    path = tmp_path / "rules.yml"
    path.write_text(RULE_FILE.replace(change, broken), "utf-8")
    with pytest.raises(RulesError, match=message):
        load_rules(path)


def test_rules_are_cached_and_reloaded_when_the_file_changes(tmp_path):
    assert load_rules() is load_rules()
    path = tmp_path / "rules.yml"
    path.write_text(RULE_FILE, "utf-8")
    first = load_rules(path)
    path.write_text(RULE_FILE.replace("id: pets", "id: animals"), "utf-8")
    os.utime(path, ns=(1, 1))
    assert load_rules(path) is not first
    assert load_rules(path).rules[0].id == "animals"


def test_the_default_rules_have_their_ids():
    assert [r.id for r in load_rules().rules] == [
        "customer-computer",
        "remote-hands",
        "install-on-server",
        "install-by-support",
        "move-to-server",
        "server-work",
        "server-upkeep",
        "server-slow",
        "install-questions-noncommercial",
        "individual-programming",
        "custom-development",
        "general-programming",
        "language-how-to",
        "site-advice",
        "site-building",
    ]


# --- who asks: tier and coupon -----------------------------------------------


def test_a_coupon_covers_installation_work():
    text = "установите модуль обновления на наш сервер"
    assert classify(text).verdict == "out_of_scope"
    assert classify(text).rule == "install-on-server"
    covered = classify(text, special=True)
    assert (covered.verdict, covered.rule) == ("in_scope", None)
    assert "купон" in covered.reason


@pytest.mark.parametrize(
    "text",
    [
        "Перенесите сайт на новый хостинг",
        "Please set up our server for Bitrix",
        "tune our MySQL server",
    ],
)
def test_a_coupon_covers_moves_and_server_work(text):
    assert classify(text).verdict == "out_of_scope"
    assert classify(text, special=True).verdict == "in_scope"


def test_a_coupon_does_not_cover_the_customers_own_computer():
    result = classify("Why is my accountant's computer so slow?", special=True)
    assert (result.verdict, result.rule) == ("out_of_scope", "customer-computer")


def test_a_coupon_covers_upkeep_of_the_customers_server_but_not_remote_help_on_its_pcs():
    upkeep = "На сервере забит диск логами, подключитесь по ssh и почистите"
    assert classify(upkeep).rule == "server-upkeep"
    assert classify(upkeep, special=True).verdict == "in_scope"
    hands = "Установите приложение Битрикс24 на компьютеры отдела через AnyDesk"
    assert classify(hands).rule == "remote-hands"
    assert classify(hands, special=True).rule == "remote-hands"


@pytest.mark.parametrize(
    "text",
    [
        "После обновления модуля main на сервере в логах ошибка, почистите кеш? Доступы ниже",
        "Проверка системы пишет, что на сервере мало памяти для PHP — какое значение нужно?",
        "Мы почистили диск на сервере, но портал всё равно не открывается",
        "The desktop app won't install on my PC, can you connect and see the error?",
        "Выгрузка сделок в Excel не открывается на компьютере",
    ],
)
def test_a_failing_product_on_the_customers_machine_stays_support(text):
    assert classify(text).verdict == "in_scope"


def test_a_wish_that_support_install_is_not_work_already_done():
    wish = classify("Нужно, чтобы ваш инженер развернул нам Битрикс24 на нашем VPS")
    assert (wish.verdict, wish.rule) == ("out_of_scope", "install-by-support")
    done = classify("Наш админ развернул Битрикс24 на VPS, при входе ошибка базы данных")
    assert done.verdict == "in_scope"


def test_individual_programming_is_consultation_only_for_noncommercial():
    text = "ошибка в моём компоненте при вызове API"
    assert classify(text, tier="noncommercial").rule == "individual-programming"
    for tier in ("partner", "commercial", "vip", None):
        assert classify(text, tier=tier).verdict == "in_scope"


def test_installation_questions_are_support_for_paying_tiers():
    text = "Какие настройки PHP нужны для установки на сервер?"
    for tier in ("partner", "commercial", "vip"):
        assert classify(text, tier=tier).verdict == "in_scope"
    assert classify(text, tier="noncommercial").verdict == "consultation"
    assert classify("Установите битрикс на наш сервер", tier="vip").verdict == "out_of_scope"


def test_default_tier_is_commercial_and_names_are_normalised():
    text = "my own PHP code using the REST API fails"
    assert classify(text) == classify(text, tier="commercial")
    assert classify(text, tier="Non-commercial").verdict == "consultation"
    with pytest.raises(ValueError, match="unknown tier"):
        classify(text, tier="gold")


# --- near misses that stay in scope ------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "After installing the update the site is down",
        "сервер CRM не отвечает после обновления",
        "установить мобильное приложение на телефон",
        "Our Bitrix24 installation sends every notification twice",
        "Вышло обновление Битрикс24 — что в нём нового?",
        "Check the SMTP server settings please, mail isn't sent",
        "No sound in the call window, which settings should I choose?",
        "Не могу установить Битрикс на сервер, мастер зависает",
        "Как восстановить сайт из резервной копии?",
    ],
)
def test_product_questions_are_not_refused(text):
    assert classify(text).verdict == "in_scope"


# --- the result --------------------------------------------------------------


def test_reason_and_links_follow_the_language():
    ru = classify("Перенесите наш сайт на другой хостинг")
    assert ru.lang == "ru" and "перенос" in ru.reason.lower()
    assert ru.links[0]["url"] == "/kb/chto-ne-delaet-tekhpodderzhka"
    en = classify("Please move our site to another hosting provider")
    assert en.lang == "en" and "certified partners" in en.reason.lower()
    assert en.links[0]["url"] == "/kb/what-support-does-not-do"
    consultation = classify("how to write a PHP loop over an array")
    assert consultation.links[0]["url"] == "/kb/consultation-and-development-levels"
    assert classify("как написать цикл на php").links[0]["url"] == "/kb/konsultacii-i-razrabotka"
    assert classify("Перенесите наш сайт на другой хостинг", lang="en").reason == en.reason


def test_as_dict_is_json_ready():
    data = json.loads(json.dumps(classify("install bitrix on my vps").as_dict()))
    assert data["verdict"] == "out_of_scope"
    assert data["rule"] == "install-on-server"
    assert data["lang"] == "en"
    assert {"title", "url"} <= set(data["links"][0])


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("установить Bitrix на VPS", "ru"),
        ("Install Bitrix on the server", "en"),
        ("не работает webhook в Bitrix24 CRM", "ru"),
        ("", "en"),
        ("12345", "en"),
    ],
)
def test_the_language_is_the_texts_script(text, lang):
    assert language_of(text) == lang


def test_empty_text_is_in_scope():
    assert classify("").verdict == "in_scope"
    with pytest.raises(ValueError, match="language"):
        classify("text", lang="de")


# --- measured on the labelled set --------------------------------------------


def test_evaluation_counts():
    cases = [
        {"text": "install bitrix on my vps", "expected": "out_of_scope"},
        {"text": "how do I add a user", "expected": "in_scope"},
        {"text": "how to write a php loop", "expected": "in_scope"},
    ]
    ev = evaluate(cases)
    assert ev.matrix["out_of_scope"]["out_of_scope"] == 1
    assert ev.matrix["in_scope"]["consultation"] == 1
    assert ev.accuracy == pytest.approx(2 / 3)
    assert ev.precision("out_of_scope") == 1.0 and ev.recall("in_scope") == 0.5
    assert ev.precision("consultation") == 0.0 and ev.recall("consultation") is None
    table = ev.table()
    assert "accuracy 0.667 (2/3)" in table and "how to write a php loop" in table


def test_load_cases_reads_sections_and_refuses_bad_cases(tmp_path):
    sections = load_sections(CASES)
    holdouts = [f"holdout{n}" for n in ("", "_2", "_3", "_4", "_5", "_6", "_7", "_8")]
    learning = ["learning_a", "learning_b", "learning_c"]
    later = [f"holdout_{n}" for n in range(9, 16)]
    assert list(sections) == ["cases", *holdouts, *learning, *later, "learning_d"]
    assert len(load_cases(CASES)) == sum(map(len, sections.values()))
    bad = tmp_path / "cases.yml"
    bad.write_text("cases:\n  - {text: hello, expected: maybe}\n", "utf-8")
    with pytest.raises(ValueError, match="case 1"):
        load_cases(bad)
    bad.write_text("cases: [unclosed\n", "utf-8")
    with pytest.raises(ValueError, match="cases.yml"):
        load_sections(bad)


def figures(ev) -> str:
    return (
        f"out_of_scope precision {ev.precision('out_of_scope'):.3f} "
        f"recall {ev.recall('out_of_scope'):.3f}, accuracy {ev.accuracy:.3f}\n{ev.table()}"
    )


def test_labelled_set():
    cases = load_cases(CASES, "cases")
    assert len(cases) >= 90
    ev = evaluate(cases)
    assert ev.precision("out_of_scope") == 1.0, figures(ev)
    assert ev.recall("out_of_scope") >= 0.95, figures(ev)
    assert ev.precision("consultation") == 1.0, figures(ev)
    assert ev.recall("consultation") >= 0.9, figures(ev)


# Floors against regressions, at the figures measured once each holdout's misses were
# studied (README gives the first-run figures, the blind ones). No in-scope request of
# any section may be refused.
HOLDOUT_FLOORS = {
    "holdout": {"precision": 1.0, "out_of_scope": 1.0, "consultation": 1.0},
    "holdout_2": {"precision": 1.0, "out_of_scope": 1.0, "consultation": 1.0},
    "holdout_3": {"precision": 1.0, "out_of_scope": 1.0, "consultation": 1.0},
    "holdout_4": {"precision": 1.0, "out_of_scope": 1.0, "consultation": 1.0},
    "holdout_5": {"precision": 1.0, "out_of_scope": 1.0, "consultation": 1.0},
    "holdout_6": {"precision": 1.0, "out_of_scope": 1.0, "consultation": 1.0},
    "holdout_7": {"precision": 1.0, "out_of_scope": 1.0, "consultation": 1.0},
    "holdout_8": {"precision": 1.0, "out_of_scope": 1.0, "consultation": 1.0},
    "holdout_9": {"precision": 1.0, "out_of_scope": 1.0, "consultation": 1.0},
    "holdout_10": {"precision": 1.0, "out_of_scope": 1.0, "consultation": 1.0},
    "holdout_11": {"precision": 1.0, "out_of_scope": 1.0, "consultation": 1.0},
    "holdout_12": {"precision": 1.0, "out_of_scope": 1.0, "consultation": 1.0},
    "holdout_13": {"precision": 1.0, "out_of_scope": 1.0, "consultation": 1.0},
    "holdout_14": {"precision": 1.0, "out_of_scope": 1.0, "consultation": 1.0},
    # held out of what the classifier learns (scope_rules.yml), written blind
    "holdout_15": {"precision": 1.0, "out_of_scope": 1.0, "consultation": 0.96},
}


@pytest.mark.parametrize("section", sorted(HOLDOUT_FLOORS))
def test_holdouts(section):
    cases = load_cases(CASES, section)
    assert len(cases) >= 20
    ev = evaluate(cases)
    floors = HOLDOUT_FLOORS[section]
    assert ev.matrix["in_scope"]["out_of_scope"] <= floors.get("refused", 0), figures(ev)
    assert ev.precision("out_of_scope") >= floors["precision"], figures(ev)
    for verdict in ("out_of_scope", "consultation"):
        assert ev.recall(verdict) >= floors[verdict], figures(ev)


@pytest.mark.parametrize(
    "section",
    [f"holdout_{n}" for n in (2, 4, 5, 6, 7, 8, *range(9, 16))],
)
def test_the_large_holdouts_are_balanced(section):
    cases = load_cases(CASES, section)
    assert len(cases) >= 60
    refused = sum(c["expected"] != "in_scope" for c in cases)
    assert 0.35 <= refused / len(cases) <= 0.65
    assert {c["lang"] for c in cases} == {"ru", "en"}


# --- the meaning layer --------------------------------------------------------

MEANING_RULES = Path(__file__).resolve().parent.parent / "data" / "scope_meaning_rules.yml"


@pytest.fixture(scope="module")
def garden():
    return load_rules(MEANING_RULES)


@pytest.mark.parametrize(
    ("text", "example"),
    [
        ("could you mow the grass in our yard", "please mow the lawn in our garden"),
        ("please trim our hedge", "trim the hedges around our house"),
        ("полейте наши цветы в саду", "полейте цветы на нашем участке"),
    ],
)
def test_a_request_no_pattern_catches_is_judged_by_its_examples(garden, text, example):
    result = classify(text, rules=garden)
    assert (result.verdict, result.rule, result.example) == ("out_of_scope", "gardening", example)
    assert 0 < result.similarity <= 1
    assert result.as_dict()["example"] == example


@pytest.mark.parametrize(
    "text", ["how do I add a new user", "how do I create a new task for a colleague", "xyzzy", "!!"]
)
def test_requests_nearer_the_counter_examples_stay_in_scope(garden, text):
    assert classify(text, rules=garden) == ScopeResult("in_scope", None, "In scope.", (), "en")


def test_a_meaning_verdict_keeps_the_rules_conditions(garden):
    text = "could you mow the grass in our yard"
    assert classify(text, special=True, rules=garden).reason == "Coupon."  # unless_special
    assert classify(f"{text}, the mower is broken", rules=garden).verdict == "in_scope"  # unless
    assert classify("weed the garden", rules=garden).example is None  # a pattern decided


def test_learned_phrasings_extend_the_examples_at_call_time(garden):
    assert classify("how do I add a new user", rules=garden).verdict == "in_scope"
    learned = [("gardening", "how do I add a new user")]
    assert classify("how do I add a new user", rules=garden, learned=learned).rule == "gardening"
    by_verdict = [("out_of_scope", "how do I add a new user")]
    result = classify("how do I add a new user", rules=garden, learned=by_verdict)
    assert (result.rule, result.example) == ("gardening", "how do I add a new user")
    text = "could you mow the grass in our yard"
    assert classify(text, rules=garden, learned=[("in_scope", text)]).verdict == "in_scope"
    with pytest.raises(ValueError, match="unknown label"):
        classify("how do I add a new user", rules=garden, learned=[("maybe", "hello")])


def test_example_vectors_are_computed_once_per_rules_file(tmp_path, garden):
    vectors = word_vectors()
    assert meaning_of(garden, vectors) is meaning_of(garden, vectors)
    copy = tmp_path / "rules.yml"
    copy.write_text(MEANING_RULES.read_text("utf-8"), "utf-8")
    first = meaning_of(load_rules(copy), vectors)
    assert meaning_of(load_rules(copy), vectors) is first
    os.utime(copy, ns=(1, 1))
    assert meaning_of(load_rules(copy), vectors) is not first


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("neighbours: 1}", "neighbours: 0}"),
        ("floor: 0.3,", "floor: high,"),
        ("meaning: {", "meaning: {depth: 2, "),
        ('      en: ["how do I add', '      de: ["how do I add'),
        ('ru: ["покосите', 'ru: [42, "покосите'),
    ],
)
def test_broken_examples_or_settings_are_refused(tmp_path, change, message):
    path = tmp_path / "rules.yml"
    text = MEANING_RULES.read_text("utf-8")
    assert change in text
    path.write_text(text.replace(change, message), "utf-8")
    with pytest.raises(RulesError, match="meaning|examples"):
        load_rules(path)


def test_every_counter_example_of_the_shipped_rules_stays_in_scope():
    rules = load_rules()
    for rule in rules.rules:
        for lang, texts in rule.counter_examples.items():
            for text in texts:
                assert classify(text, lang=lang, rules=rules).verdict == "in_scope", text


def test_the_issue_examples():
    for text in (
        "Проведите диагностику нашего сервера, он тормозит",
        "Our office PC is slow, please diagnose it",
    ):
        assert classify(text).verdict == "out_of_scope"
    for text in ("сервер Битрикс24 не отвечает", "the cloud portal is slow today"):
        assert classify(text).verdict == "in_scope"
