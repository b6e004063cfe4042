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
        ({"PORTAL_NO_SUCH_THING": "1"}, "unknown setting"),
        ({"PORTAL_CONFIG_FILE": "/nonexistent/portal.toml"}, "does not exist"),
    ],
)
def test_bad_settings_get_a_clear_message(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(overrides)
