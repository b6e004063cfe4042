"""Files changed outside the editor (a git pull) imported into the published articles, and
the published articles exported back into files for git."""

from pathlib import Path

from flask import current_app

from portal.editor.revisions import add_revision, latest, record, seen_before
from portal.editor.services import all_articles, articles_root
from portal.extensions import db
from portal.kb import published
from portal.kb.articles import article_files, content_hash
from portal.kb.published import META_FILES, next_seq, publish
from portal.kb.replica import applied_seq

# The job lock an import of the articles folder runs under: one host imports at a time.
IMPORT_JOB = "articles-import"


def sync_history() -> int:
    """Publish the files changed outside the editor (a git pull) as one change and record
    them in the articles' history; returns how many known articles changed or went.

    Run under `job_lock(IMPORT_JOB)`. A file that is an older version of one the database
    holds newer than this host has applied is left to the follower: the host is behind, its
    file is not a change. An article the database has never seen (a fresh checkout) gets
    its first revision as it is, which is not a change.
    """
    root = articles_root()
    applied = applied_seq(current_app.config["PORTAL_INDEX_DIR"])
    files = {a.path: (a.slug, (root / a.path).read_bytes().decode("utf-8")) for a in all_articles()}
    for name in META_FILES:
        if (root / name).is_file():
            files[name] = (None, (root / name).read_bytes().decode("utf-8"))
    present = {p.relative_to(root).as_posix() for p in article_files(root)}
    seq = next_seq(db.session)  # editors' saves wait until the import commits
    rows = {row.path: row for row in published.states(db.session)}
    changed = touched = 0
    for path, (slug, text) in files.items():
        row, digest = rows.get(path), content_hash(text.encode("utf-8"))
        if row is not None and not row.deleted and row.content_hash == digest:
            continue
        if row is not None and row.seq > applied and seen_before(slug, text):
            continue  # an older version on a host that has not applied the newer one yet
        touched += 1
        publish(db.session, path, text, seq, slug)
        if slug is None:
            continue
        newest = latest(slug)
        if newest is None or newest.content_hash != digest:
            add_revision(slug, path, "imported" if newest is None else "external", text, None, seq)
            changed += newest is not None
    for path, row in rows.items():
        gone = present and path.endswith(".md") and path not in present and not row.deleted
        # Only what this host had can have been removed from its folder since.
        if gone and row.slug and row.seq <= applied:
            touched += 1
            changed += 1
            content = published.current(db.session, path).content
            record(row.slug, path, "deleted", content, None, seq)
    if touched:
        db.session.commit()
    else:
        db.session.rollback()  # nothing changed: the sequence does not move
    return changed


def export_articles(target: Path) -> int:
    """Write the published files into `target` as they are in the database, byte for byte;
    files deleted there are removed. Returns how many files were written or removed."""
    count = 0
    for row in published.all_rows(db.session):
        if not published.is_safe_path(row.path):
            continue
        if row.deleted:
            count += published.remove_file(target, row.path)
        else:
            count += published.write_file(target, row.path, row.content)
    db.session.rollback()
    return count
