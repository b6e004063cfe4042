"""The `portal` command: a Flask CLI group carrying every maintenance command."""

import csv
import importlib.util
import json
import secrets
import signal
import sys
import threading
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from portal import demo
from portal.accounts.services import find_user
from portal.api_v1.models import ApiToken
from portal.api_v1.services import issue_token, revoke_token
from portal.api_v1.webhooks import EVENTS
from portal.app import create_app
from portal.config import PROJECT_ROOT, ConfigError
from portal.editor.imports import IMPORT_JOB, export_articles, sync_history
from portal.extensions import db as database
from portal.kb.api import results_json
from portal.kb.indexing import build_index, update_changed
from portal.kb.replica import catch_up, host_lock, start_follower
from portal.kb.results import IndexMissing
from portal.kb.services import search_index
from portal.kb.vectors import word_vectors
from portal.locks import job_lock
from portal.mail import sources as intake_sources
from portal.mail.intake import receive
from portal.migrations import upgrade
from portal.outbox.mail import deliver_pending, transport_from_config
from portal.outbox.models import Webhook
from portal.outbox.webhooks import deliver_webhooks
from portal.scope import (
    DEFAULT_CASES,
    classify,
    evaluate,
    learned_of,
    load_rules,
    load_sections,
)
from portal.sla import TIERS
from portal.tickets.models import Attachment
from portal.tickets.storage import STORES, build_store, copy_all
from portal.wizard.models import DraftFile


def _bench(name: str):
    """A measuring tool from the project's `bench/` folder (they are not part of the package)."""
    path = PROJECT_ROOT / "bench" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"bench.{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def _create_app():
    # Only the development server follows the published articles in the background; the
    # other commands are short, and `portal index` follows under its own locks.
    context = click.get_current_context(silent=True)
    try:
        app = create_app()
    except ConfigError as exc:
        click.echo(f"Configuration error: {exc}", err=True)
        sys.exit(2)
    if context is not None and context.info_name == "run":
        start_follower(app)
    return app


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main():
    """Support portal maintenance commands."""


@main.group()
def db():
    """Database schema."""


@db.command("upgrade")
@with_appcontext
def db_upgrade():
    """Create or migrate the database to the newest schema."""
    upgrade(current_app.config["PORTAL_DATABASE_URL"])
    click.echo("Database is up to date.")


@main.group()
def attachments():
    """Where attachments are kept."""


@attachments.command("move")
@click.option("--to", "target", type=click.Choice(STORES), required=True)
@click.option(
    "--from",
    "source",
    type=click.Choice(STORES),
    default=None,
    help="Store to copy from; default PORTAL_ATTACHMENT_STORE.",
)
@with_appcontext
def attachments_move(target, source):
    """Copy every attachment into another store; safe to run again. Nothing is deleted."""
    source = source or current_app.config["PORTAL_ATTACHMENT_STORE"]
    if source == target:
        raise click.UsageError(f"the attachments are already read from {source}")
    try:
        stores = build_store(source, current_app.config), build_store(target, current_app.config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    names = database.session.scalars(
        select(Attachment.stored_name).union(select(DraftFile.stored_name))
    ).all()
    counts = copy_all(names, *stores)
    click.echo(
        f"{counts['copied']} copied to {target}, {counts['present']} already there, "
        f"{counts['missing']} missing from {source}."
    )
    if counts["missing"]:
        sys.exit(1)


@main.command("index")
@click.option("--changed", is_flag=True, help="Update only articles whose content changed.")
@click.option("--procs", type=click.IntRange(1, 16), default=None, help="Writer processes.")
@click.option("--strict", is_flag=True, help="Exit with status 1 if any article has a problem.")
@with_appcontext
def index_command(changed, procs, strict):
    """Build the search index from the articles folder."""
    articles = current_app.config["PORTAL_ARTICLES_DIR"]
    index_dir = current_app.config["PORTAL_INDEX_DIR"]
    if not articles.is_dir():
        raise click.ClickException(f"articles folder {articles} does not exist")
    vectors = word_vectors(current_app.config["PORTAL_SEARCH_VECTORS"])
    external = _import_articles()
    if changed:
        report = update_changed(articles, index_dir, vectors)
    else:
        procs = procs or current_app.config["PORTAL_INDEX_PROCS"]
        report = build_index(articles, index_dir, procs, vectors)
    for problem in report.problems:
        click.echo(f"{problem}", err=True)
    if external:
        click.echo(f"{external} article(s) changed outside the editor recorded in their history.")
    kind = "full build" if report.full else "changed articles"
    click.echo(
        f"Index ({kind}): {report.indexed} indexed, {report.removed} removed, "
        f"{report.unchanged} unchanged, {report.skipped_drafts} drafts skipped, "
        f"{len(report.problems)} problem(s), {report.seconds:.2f} s."
    )
    if strict and report.problems:
        sys.exit(1)


def _import_articles() -> int:
    """Publish the folder's changes in the database (one host at a time), then bring the
    folder and index up to what the database holds; how many known articles changed."""
    index_dir = current_app.config["PORTAL_INDEX_DIR"]
    try:
        # One import across hosts; on this host, no follower writes the folder meanwhile.
        with job_lock(IMPORT_JOB), host_lock(index_dir, wait=True):
            external = sync_history()
            catch_up(
                current_app.config["PORTAL_ARTICLES_DIR"],
                index_dir,
                current_app.config["PORTAL_REPLICA_REBUILD_AFTER"],
                current_app.config["PORTAL_SEARCH_VECTORS"],
            )
            return external
    except SQLAlchemyError:
        database.session.rollback()
        click.echo(
            "Articles not imported into the database: it is not ready; run `portal db upgrade`.",
            err=True,
        )
        return 0


@main.group("articles")
def articles_group():
    """The published articles held in the database."""


@articles_group.command("export")
@click.option(
    "--to",
    "target",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder to write into (default: PORTAL_ARTICLES_DIR).",
)
@with_appcontext
def articles_export(target):
    """Write the database's published articles as Markdown files, byte for byte (for git)."""
    folder = Path(target) if target else current_app.config["PORTAL_ARTICLES_DIR"]
    try:
        count = export_articles(folder.resolve())
    except SQLAlchemyError:
        database.session.rollback()
        raise click.ClickException("the database is not ready; run `portal db upgrade`") from None
    except OSError as exc:
        raise click.ClickException(f"cannot write into {folder}: {exc.strerror}") from None
    click.echo(f"{count} file(s) written or removed in {folder}.")


@main.command("search")
@click.argument("query")
@click.option("--lang", type=click.Choice(["ru", "en"]), default=None)
@click.option("--category", default=None)
@click.option("--limit", type=click.IntRange(1, 50), default=5)
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON.")
@with_appcontext
def search_command(query, lang, category, limit, as_json):
    """Search the knowledge base from the command line."""
    try:
        results = search_index().search(query, lang=lang, category=category, per_page=limit)
    except IndexMissing as exc:
        raise click.ClickException(f"PORTAL_INDEX_DIR: {exc}") from None
    with current_app.test_request_context():
        data = results_json(results)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if data["suggestion"]:
        click.echo(f"Did you mean: {data['suggestion']}")
    click.echo(f"{data['total']} result(s)")
    for r in data["results"]:
        click.echo(f"{r['score']:8.3f}  [{r['lang']}] {r['title']}  {r['url']}")


@main.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has users.")
@with_appcontext
def demo_command(if_empty):
    """Load demo organisations, users of every role and tier, and tickets in every state."""
    if not demo.database_is_empty():
        if if_empty:
            return
        raise click.ClickException("the database already has users; demo data needs an empty one")
    accounts = demo.load_demo()
    click.echo(f"Demo accounts (password: {demo.PASSWORD}):")
    for email, role, tier in accounts:
        if email == "coupon":
            click.echo(f"  coupon for special requests of {tier}: {role}")
        else:
            click.echo(f"  {email:<24} {role:<9} {tier if role == 'customer' else ''}")


@main.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due and exit.")
@click.option("--interval", type=click.FloatRange(0.2, 3600), default=5.0, show_default=True)
@with_appcontext
def worker_command(once, interval):
    """Deliver the e-mail outbox (SMTP, or .eml files by default), retrying failures.

    SIGTERM or Ctrl-C lets the send in progress finish and be recorded, then stops: a
    restart never leaves a letter taken by the server but not marked sent.
    """
    transport = transport_from_config(current_app.config)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.is_set():
        sent = deliver_pending(transport, stop=stop)
        hooks = deliver_webhooks(stop=stop)
        if sent or hooks:
            click.echo(f"{sent} message(s) sent, {hooks} webhook(s) delivered")
        if once:
            return
        stop.wait(interval)


@main.command("scope")
@click.argument("text")
@click.option("--lang", type=click.Choice(["ru", "en"]), default=None)
@click.option("--tier", type=click.Choice(list(TIERS)), default=None)
@click.option("--special", is_flag=True, help="The request carries a valid coupon.")
@with_appcontext
def scope_command(text, lang, tier, special):
    """Classify a request text: in_scope, out_of_scope or consultation (JSON)."""
    rules = load_rules(current_app.config["PORTAL_SCOPE_RULES_FILE"])
    result = classify(text, lang=lang, tier=tier, special=special, rules=rules)
    click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))


@main.command("scope-eval")
@click.argument("cases", type=click.Path(exists=True, dir_okay=False), default=None, required=False)
@with_appcontext
def scope_eval_command(cases):
    """Confusion matrix of the scope check per section of a labelled set (default: the one
    the configured rules learn from)."""
    rules_file = current_app.config["PORTAL_SCOPE_RULES_FILE"]
    try:
        rules = load_rules(rules_file)
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read {rules_file}: {exc}") from None
    learned_from = rules.cases or DEFAULT_CASES
    path = Path(cases) if cases else learned_from
    try:
        sections = load_sections(path)
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from None
    if len(sections) > 1:
        sections["all"] = [case for cases in sections.values() for case in cases]
    learned_of(rules, word_vectors())  # learned once, before the calls are timed
    same_file = path.resolve() == Path(learned_from).resolve()
    held_out = set(rules.learning["held_out"]) if same_file else set()
    for name, labelled in sections.items():
        start = time.perf_counter()
        table = evaluate(labelled, rules).table()
        per_call = (time.perf_counter() - start) * 1000 / max(len(labelled), 1)
        note = ", held out of what the classifier learns" if name in held_out else ""
        click.echo(f"== {name}: {len(labelled)} requests{note}, {per_call:.1f} ms each\n{table}\n")


@main.command("mail-in")
@click.option(
    "--maildir",
    type=click.Path(file_okay=False),
    default=None,
    help="Process the new messages of a Maildir (they move to cur/).",
)
@click.option("--imap", is_flag=True, help="Fetch unseen messages from the configured IMAP box.")
@with_appcontext
def mail_in_command(maildir, imap):
    """Turn e-mail into tickets and replies: one message on stdin, a Maildir, or IMAP."""
    if maildir:
        results = intake_sources.from_maildir(Path(maildir))
    elif imap:
        try:
            results = intake_sources.from_imap(current_app.config)
        except intake_sources.SourceError as exc:
            raise click.ClickException(str(exc)) from None
    else:
        results = [receive(sys.stdin.buffer.read())]
    for result in results:
        click.echo(f"{result.action} {result.ticket or '-'} {result.reason}".rstrip())
    if any(r.failed for r in results):
        sys.exit(1)


@main.group("api-token")
def api_token():
    """Tokens for the REST API (/api/v1/)."""


@api_token.command("create")
@click.argument("email")
@click.argument("name")
@with_appcontext
def api_token_create(email, name):
    """Issue a token acting as the user with this e-mail; it is shown once."""
    user = find_user(email)
    if user is None:
        raise click.ClickException(f"no user with the e-mail {email}")
    token, secret = issue_token(user, name[:100])
    click.echo(f"Token {token.id} for {user.email}: {secret}")
    click.echo("Keep it secret: it is not stored and cannot be shown again.")


@api_token.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def api_token_revoke(token_id):
    """Revoke a token by its number."""
    token = database.session.get(ApiToken, token_id)
    if token is None:
        raise click.ClickException(f"no token {token_id}")
    revoke_token(token)
    click.echo(f"Token {token_id} revoked.")


@main.command("webhook")
@click.argument("url")
@click.option(
    "--event",
    "events",
    multiple=True,
    type=click.Choice(EVENTS),
    help="Events to send (default: all).",
)
@with_appcontext
def webhook_command(url, events):
    """Add a webhook; prints the secret its deliveries are signed with."""
    if not url.startswith(("https://", "http://")):
        raise click.ClickException("the URL must start with https:// or http://")
    secret = secrets.token_hex(32)
    database.session.add(Webhook(url=url, secret=secret, events=list(events or EVENTS)))
    database.session.commit()
    click.echo(f"Webhook added. Signing secret (X-Portal-Signature, HMAC-SHA256): {secret}")


@main.command("bench")
@click.option("--articles", "sizes", default="1000,10000", help="Comma-separated sizes.")
@click.option("--queries", type=click.IntRange(10, 100_000), default=600)
@click.option("--procs", type=click.IntRange(1, 16), default=2, help="Writer processes.")
def bench_command(sizes, queries, procs):
    """Measure index build time and search/suggest latency on synthetic articles."""
    try:
        counts = [int(s) for s in sizes.split(",") if s.strip()]
    except ValueError:
        raise click.BadParameter("sizes must be whole numbers, e.g. 1000,10000") from None
    if not counts or min(counts) < 1:
        raise click.BadParameter("give at least one positive size")
    bench = _bench("search")
    rows = bench.run(counts, queries, procs, echo=click.echo)
    click.echo(bench.table(rows))


@main.command("eval")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--train",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Build the articles from this file and ask every question of FILES.",
)
@click.option(
    "--sample",
    type=click.IntRange(0, 1_000_000),
    default=0,
    help="Ask at most this many questions per file (a fixed random sample).",
)
@click.option("--no-vectors", is_flag=True, help="Rank without the word vectors.")
@click.option(
    "--kb",
    is_flag=True,
    help="Ask against the portal's own articles (PORTAL_ARTICLES_DIR); labels are slugs.",
)
@with_appcontext
def eval_command(files, train, sample, no_vectors, kb):
    """Hit@1, hit@5 and MRR of the suggestions on labelled question sets (CSV text,intent).

    Without --train or --kb, each FILE is split by the protocol: the first ten phrasings
    of an intent make its article and the other questions are asked.
    """
    if kb and train:
        raise click.UsageError("--kb and --train exclude each other")
    articles = current_app.config["PORTAL_ARTICLES_DIR"] if kb else None
    evaluation = _bench("deflection")
    outcomes = []
    for name in files:
        try:
            outcomes.append(
                evaluation.run(
                    Path(name),
                    Path(train) if train else None,
                    sample,
                    not no_vectors,
                    articles,
                )
            )
        except (ValueError, UnicodeDecodeError, csv.Error) as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"{name}: {outcomes[-1].asked} questions asked", err=True)
    click.echo(evaluation.table(outcomes))


if __name__ == "__main__":
    main()
