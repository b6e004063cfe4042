import pytest

from portal.config import PROJECT_ROOT, SETTINGS, ConfigError, load_settings


def test_every_setting_is_documented_in_the_readme():
    readme = (PROJECT_ROOT / "README.md").read_text("utf-8")
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in readme]
    assert missing == []


def test_defaults_put_sqlite_under_the_instance_folder(monkeypatch):
    for s in SETTINGS:
        monkeypatch.delenv(s.name, raising=False)
    values = load_settings({"PORTAL_INSTANCE_DIR": "/tmp/portal-test-instance"})
    assert values["PORTAL_DATABASE_URL"] == "sqlite:////tmp/portal-test-instance/portal.db"
    assert values["PORTAL_ARTICLES_DIR"] == PROJECT_ROOT / "articles"


def test_environment_and_overrides_win(monkeypatch):
    monkeypatch.setenv("PORTAL_SEARCH_PAGE_SIZE", "25")
    assert load_settings()["PORTAL_SEARCH_PAGE_SIZE"] == 25
    assert load_settings({"PORTAL_SEARCH_PAGE_SIZE": 7})["PORTAL_SEARCH_PAGE_SIZE"] == 7


def test_a_toml_file_is_read(tmp_path, monkeypatch):
    monkeypatch.delenv("PORTAL_DEFAULT_LOCALE", raising=False)
    (tmp_path / "portal.toml").write_text('PORTAL_DEFAULT_LOCALE = "en"\n')
    assert load_settings({"PORTAL_INSTANCE_DIR": str(tmp_path)})["PORTAL_DEFAULT_LOCALE"] == "en"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"PORTAL_SEARCH_PAGE_SIZE": "many"}, "whole number"),
        ({"PORTAL_DEFAULT_LOCALE": "de"}, "ru or en"),
        ({"PORTAL_OUTBOX_LEASE_SECONDS": "1"}, "PORTAL_OUTBOX_LEASE_SECONDS must be between"),
        ({"PORTAL_NO_SUCH_THING": "1"}, "unknown setting"),
        ({"PORTAL_CONFIG_FILE": "/nonexistent/portal.toml"}, "does not exist"),
    ],
)
def test_bad_settings_get_a_clear_message(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(overrides)


def test_relative_paths_are_read_from_the_project_folder_wherever_the_command_runs(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    values = load_settings(
        {
            "PORTAL_SCOPE_RULES_FILE": "portal/scope_rules.yml",
            "PORTAL_DATABASE_URL": "sqlite:///instance/other.db",
        }
    )
    assert values["PORTAL_SCOPE_RULES_FILE"] == PROJECT_ROOT / "portal" / "scope_rules.yml"
    assert values["PORTAL_CATEGORIES_FILE"] == PROJECT_ROOT / "portal/tickets/categories.yml"
    assert values["PORTAL_INDEX_DIR"] == PROJECT_ROOT / "index"
    assert values["PORTAL_DATABASE_URL"] == f"sqlite:///{PROJECT_ROOT / 'instance' / 'other.db'}"


def test_absolute_and_server_database_urls_are_kept():
    for url in ("sqlite:////tmp/x.db", "sqlite://", "postgresql+psycopg://u@h/db"):
        assert load_settings({"PORTAL_DATABASE_URL": url})["PORTAL_DATABASE_URL"] == url


@pytest.mark.parametrize("name", ["PORTAL_SCOPE_RULES_FILE", "PORTAL_CATEGORIES_FILE"])
def test_a_missing_rules_or_categories_file_names_its_setting(name):
    with pytest.raises(ConfigError, match=f"^{name}: .*missing.yml does not exist"):
        load_settings({name: "missing.yml"})
