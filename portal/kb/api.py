"""JSON search API: `/api/search` and `/api/suggest`."""

from flask import Blueprint, jsonify, request, url_for
from flask_babel import gettext as _

from portal.extensions import limiter
from portal.kb.forms import MAX_EXCLUDED, ApiSearchForm, ApiSuggestForm
from portal.kb.results import SearchResults
from portal.kb.services import answer_tag, reader_language, rendered, search_index
from portal.kb.views import tagged, unchanged

bp = Blueprint("kb_api", __name__, url_prefix="/api")


def results_json(results: SearchResults) -> dict:
    """The JSON shape shared by the API and `portal search --json`."""
    return {
        "query": results.query,
        "results": [
            {
                "slug": h.slug,
                "title": h.title,
                "url": url_for("kb.article", slug=h.slug),
                "snippet": h.snippet.text,
                "category": h.category,
                "lang": h.lang,
                "score": h.score,
            }
            for h in results.hits
        ],
        "total": results.total,
        "suggestion": results.suggestion,
    }


def invalid(form) -> tuple:
    fields = {name: [str(e) for e in errors] for name, errors in form.errors.items()}
    return _invalid(fields)


def invalid_field(name: str, message: str) -> tuple:
    return _invalid({name: [message]})


def _invalid(fields: dict) -> tuple:
    message = _("Invalid parameters: %(names)s", names=", ".join(sorted(fields)))
    return jsonify(error={"code": "invalid_parameter", "message": message, "fields": fields}), 400


@bp.get("/search")
@limiter.limit("120 per minute")
def search():
    form = ApiSearchForm(request.args)
    if not form.validate():
        return invalid(form)
    tag = answer_tag("search", request.query_string.decode("latin-1"))
    if (response := unchanged(tag)) is not None:
        return response
    results = search_index().search(
        form.q.data,
        lang=form.lang.data or None,
        category=form.category.data or None,
        page=form.page.data or 1,
        per_page=form.limit.data or 10,
    )
    return tagged(jsonify(results_json(results)), tag)


@bp.get("/suggest")
@limiter.limit("300 per minute")
def suggest():
    form = ApiSuggestForm(request.args)
    if not form.validate():
        return invalid(form)
    excluded = form.excluded
    if len(excluded) > MAX_EXCLUDED:
        return invalid_field(
            "exclude", _("At most %(n)d articles can be left out.", n=MAX_EXCLUDED)
        )
    tag = answer_tag("suggest", request.query_string.decode("latin-1"))
    if (response := unchanged(tag)) is not None:
        return response
    results = search_index().suggest(
        form.q.data,
        lang=form.lang.data or None,
        limit=form.limit.data or 5,
        prefer_lang=reader_language(form.q.data or ""),
        exclude=excluded,
    )
    return tagged(jsonify(results_json(results)), tag)


@bp.get("/articles/<slug>")
def article(slug):
    """One article's rendered body, for the panel that opens it in place."""
    found = search_index().article(slug)
    if found is None:
        return jsonify(error={"code": "not_found", "message": _("No such article.")}), 404
    return jsonify(
        slug=found.slug,
        title=found.title,
        summary=found.summary,
        lang=found.lang,
        url=url_for("kb.article", slug=found.slug),
        html=rendered(found).html,
    )
