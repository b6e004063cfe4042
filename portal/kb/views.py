"""Pages of the knowledge base: home, search, categories, articles, votes."""

import secrets

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from portal.extensions import limiter
from portal.kb import events, evidence, services
from portal.kb.forms import SearchForm, VoteForm

bp = Blueprint("kb", __name__)


def visitor_id(create: bool = False) -> str | None:
    """A random id for this browser, kept in the signed session cookie."""
    if "visitor" not in session and create:
        session["visitor"] = secrets.token_hex(16)
    return session.get("visitor")


@bp.after_app_request
def remember_throttling(response):
    """A client that was rate-limited anywhere on the site teaches search nothing for a while."""
    if response.status_code == 429 and not request.path.startswith("/api/v1/"):
        evidence.mark_throttled()
    return response


@bp.get("/")
def home():
    lang = str(get_locale())
    counts = services.category_counts(lang)
    cats = [c for c in services.categories().values() if counts.get(c["slug"])]
    return render_template(
        "kb/home.html",
        form=SearchForm(formdata=None),
        categories=cats,
        counts=counts,
        popular=services.popular_articles(lang),
    )


@bp.get("/search")
def search():
    form = SearchForm(request.args)
    valid = form.validate()
    query = form.q.data.strip() if valid or not form.q.errors else ""
    lang = form.lang.data if not form.lang.errors else ""
    category = form.category.data if not form.category.errors else ""
    page = form.page.data if valid and form.page.data else 1
    # A visitor with no session sees the same page for the same address until the index
    # changes: a repeat (back, reload, a proxy) is answered by revalidation, not recomputed,
    # and is not counted again as a search.
    tag = None
    if not current_user.is_authenticated and not session:
        tag = services.answer_tag("page", request.query_string.decode("latin-1"))
        if (response := unchanged(tag)) is not None:
            return response
    results = None
    if query:
        results = services.search_index().search(
            query,
            lang=lang or None,
            category=category or None,
            page=page,
            per_page=current_app.config["PORTAL_SEARCH_PAGE_SIZE"],
            prefer_lang=str(get_locale()),
        )
        if page == 1:
            events.searched.send(None, query=query, lang=lang or None, results=results.total)
    page_html = render_template(
        "kb/search.html",
        form=form,
        results=results,
        query=query,
        categories=services.categories(),
        lang=lang,
        category=category,
    )
    response = current_app.make_response(page_html)
    return tagged(response, tag) if tag else response


def unchanged(tag: str):
    """304 when the client holds this answer already (a browser or a proxy revalidating)."""
    if request.if_none_match.contains(tag):
        return tagged(current_app.response_class(status=304), tag)
    return None


def tagged(response, tag: str):
    """The answer marked so that a repeat costs a revalidation only."""
    response.set_etag(tag)
    response.headers["Cache-Control"] = "no-cache"
    response.vary.add("Cookie")  # the interface language and a session come in cookies
    return response


@bp.get("/kb/category/<slug>")
def category(slug):
    cats = services.categories()
    if slug not in cats:
        abort(404)
    lang = request.args.get("lang") if request.args.get("lang") in ("ru", "en") else None
    lang = lang or str(get_locale())
    articles = services.search_index().articles(lang=lang, category=slug)
    return render_template(
        "kb/category.html",
        category=cats[slug],
        articles=articles,
        lang=lang,
        form=SearchForm(formdata=None),
    )


@bp.get("/kb/<slug>")
def article(slug):
    index = services.search_index()
    found = index.article(slug)
    if found is None:
        moved_to = services.redirect_for(slug)
        if moved_to is None or moved_to == slug:
            abort(404)
        carried = request.args.get("from_search") or None
        return redirect(url_for("kb.article", slug=moved_to, from_search=carried), 301)
    from_search = request.args.get("from_search", "")[:200]
    events.viewed.send(None, slug=found.slug, lang=found.lang, from_query=from_search or None)
    if from_search:
        evidence.remember_search(found.slug, from_search)
    vote = services.visitor_vote(found.slug, visitor_id())
    form = VoteForm(formdata=None, comment=vote.comment if vote else None)
    return render_template(
        "kb/article.html",
        article=found,
        body=services.rendered(found),
        category=services.categories().get(found.category),
        related=index.related(found),
        translations=index.translations(found),
        vote=vote,
        votes=services.vote_counts(found.slug),
        form=form,
        ask_comment=request.args.get("feedback") == "1" and vote is not None and not vote.helpful,
        question=evidence.searched_for(found.slug),
    )


@bp.post("/kb/<slug>/vote")
@limiter.limit("20 per minute;200 per hour")
def vote(slug):
    if services.search_index().article(slug) is None:
        abort(404)
    form = VoteForm()
    if not form.validate_on_submit():
        flash(_("Your vote was not saved: the form expired. Please try again."), "error")
        return redirect(url_for("kb.article", slug=slug) + "#vote")
    helpful = form.helpful.data == "yes"
    services.cast_vote(slug, visitor_id(create=True), helpful, form.comment.data)
    if helpful:
        evidence.learn_from_vote(slug, current_user)
        flash(_("Thank you! Glad the article helped."), "success")
        return redirect(url_for("kb.article", slug=slug) + "#vote")
    if form.comment.data:
        flash(_("Thank you for telling us what was missing."), "success")
        return redirect(url_for("kb.article", slug=slug) + "#vote")
    return redirect(url_for("kb.article", slug=slug, feedback=1) + "#vote")


@bp.get("/kb/media/<path:path>")
def media(path):
    found = services.media_file(path)
    if found is None:
        abort(404)
    return send_file(found, max_age=3600)
