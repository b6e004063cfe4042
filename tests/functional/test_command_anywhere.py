"""The `portal` command from another folder than the project's, as a shell runs it."""

import os
import subprocess
import sys

from portal.config import SETTINGS


def run_portal(cwd, *args, **settings):
    env = {k: v for k, v in os.environ.items() if k not in {s.name for s in SETTINGS}}
    env.update({"PORTAL_SEARCH_VECTORS": "false", **settings})
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_index_runs_from_any_folder_and_reports_what_it_cannot_index(tmp_path):
    articles = tmp_path / "kb"
    (articles / "support" / "deeper").mkdir(parents=True)
    article = "---\ntitle: T\nslug: {}\nlang: en\nsummary: S.\nupdated: 2026-01-02\n---\nText.\n"
    (articles / "support" / "a.en.md").write_text(article.format("a"), "utf-8")
    (articles / "support" / "deeper" / "b.en.md").write_text(article.format("b"), "utf-8")
    (articles / "support" / "c.md").write_text(article.format("c"), "utf-8")
    result = run_portal(
        tmp_path,
        "index",
        PORTAL_ARTICLES_DIR=str(articles),
        PORTAL_INDEX_DIR=str(tmp_path / "index"),
        PORTAL_INSTANCE_DIR=str(tmp_path / "instance"),
    )
    assert result.returncode == 0, result.stderr
    assert "1 indexed" in result.stdout and "2 problem(s)" in result.stdout
    assert "support/deeper/b.en.md:1: not indexed" in result.stderr
    assert "support/c.md:1: not indexed" in result.stderr


def test_a_broken_rules_file_is_one_line_naming_the_setting(tmp_path):
    (tmp_path / "rules.yml").write_text("- just a list\n", "utf-8")
    for value in ("rules.yml", str(tmp_path / "rules.yml")):
        result = run_portal(
            tmp_path, "index", PORTAL_SCOPE_RULES_FILE=value, PORTAL_INSTANCE_DIR=str(tmp_path)
        )
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(
            "Configuration error: PORTAL_SCOPE_RULES_FILE"
        )
