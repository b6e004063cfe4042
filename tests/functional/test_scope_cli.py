import json


def test_scope_eval_prints_figures_per_section(portal_cli, tmp_path):
    cases = tmp_path / "cases.yml"
    cases.write_text(
        "train:\n"
        "  - {text: install bitrix on my vps, expected: out_of_scope}\n"
        "  - {text: how do I add a user, expected: in_scope}\n"
        "check:\n"
        "  - {text: how to write a php loop over an array, expected: consultation}\n",
        "utf-8",
    )
    result = portal_cli("scope-eval", str(cases))
    assert result.exit_code == 0, result.output
    assert "== train: 2 requests" in result.output
    assert "== check: 1 requests" in result.output
    assert "== all: 3 requests" in result.output
    assert result.output.count("out_of_scope: precision") == 3


def test_scope_eval_refuses_a_broken_file(portal_cli, tmp_path):
    cases = tmp_path / "cases.yml"
    cases.write_text("cases: [unclosed\n", "utf-8")
    result = portal_cli("scope-eval", str(cases))
    assert result.exit_code != 0
    assert "cannot read" in result.output and "Traceback" not in result.output


def test_scope_json_names_the_example_it_matched(portal_cli):
    result = portal_cli("scope", "посмотрите почему тормозит наш сервер")
    data = json.loads(result.output)
    assert data["verdict"] == "out_of_scope"
    assert {"example", "similarity"} <= set(data)


def test_scope_reads_the_configured_rules_file(portal_cli, app, tmp_path):
    shipped = app.config["PORTAL_SCOPE_RULES_FILE"]
    copy = tmp_path / "rules.yml"
    copy.write_text(shipped.read_text("utf-8"), "utf-8")
    cases = shipped.parent / "scope_cases.yml"  # the labelled requests it names
    (tmp_path / cases.name).write_text(cases.read_text("utf-8"), "utf-8")
    try:
        app.config["PORTAL_SCOPE_RULES_FILE"] = tmp_path / "missing.yml"
        assert portal_cli("scope", "how do I add a user").exit_code != 0
        app.config["PORTAL_SCOPE_RULES_FILE"] = copy
        result = portal_cli("scope", "how do I add a user")
        assert json.loads(result.output)["verdict"] == "in_scope"
    finally:
        app.config["PORTAL_SCOPE_RULES_FILE"] = shipped


def test_scope_eval_measures_the_configured_rules_on_their_labelled_set(portal_cli, app, tmp_path):
    shipped = app.config["PORTAL_SCOPE_RULES_FILE"]
    rules = shipped.read_text("utf-8")
    held_out = next(line for line in rules.splitlines() if line.startswith("  held_out:"))
    copy = tmp_path / "rules.yml"
    copy.write_text(rules.replace(held_out, "  held_out: [later]"), "utf-8")
    (tmp_path / "scope_cases.yml").write_text(
        "earlier:\n"
        "  - {text: install bitrix on our vps for us, expected: out_of_scope}\n"
        "  - {text: how do I add a user to a workgroup, expected: in_scope}\n"
        "later:\n"
        "  - {text: how to write a php loop over an array, expected: consultation}\n",
        "utf-8",
    )
    try:
        app.config["PORTAL_SCOPE_RULES_FILE"] = copy
        result = portal_cli("scope-eval")
        assert result.exit_code == 0, result.output
        assert "== earlier: 2 requests, " in result.output
        assert "== later: 1 requests, held out of what the classifier learns" in result.output
        app.config["PORTAL_SCOPE_RULES_FILE"] = tmp_path / "missing.yml"
        result = portal_cli("scope-eval")
        assert result.exit_code != 0 and "cannot read" in result.output
        assert "Traceback" not in result.output
    finally:
        app.config["PORTAL_SCOPE_RULES_FILE"] = shipped
