"""Editor pages: articles with their figures, the editor with history, insights."""

import csv
import datetime as dt
import io

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal.calendar.services import sla_policy
from portal.clock import utcnow
from portal.editor import insights, revisions, services
from portal.editor.charts import bar_chart
from portal.editor.forms import ArticleForm, PeriodForm, question_lines
from portal.editor.from_ticket import draft_from_ticket
from portal.forms import ActionForm
from portal.kb import evidence
from portal.kb.articles import load_categories
from portal.tickets.access import ticket_for_viewer
from portal.tickets.categories import configured_categories

bp = Blueprint("editor", __name__, url_prefix="/editor")
ERRORS = {
    "slug_taken": _l("Another article already has this address (slug)."),
    "not_found": _l("There is no such article."),
}


@bp.before_request
@login_required
def editors_only():
    if not (current_user.is_editor or current_user.is_staff):
        abort(403)


def _period() -> tuple[PeriodForm, insights.Period]:
    form = PeriodForm(request.args)
    form.validate()
    tz = sla_policy().calendar.tz
    today = utcnow().astimezone(tz).date()
    start = (
        form.date_from.data
        if not form.date_from.errors and form.date_from.data
        else (today - dt.timedelta(days=30))
    )
    end = form.date_to.data if not form.date_to.errors and form.date_to.data else today
    form.date_from.data, form.date_to.data = start, end
    return form, insights.Period(
        dt.datetime.combine(start, dt.time(), tz),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tz),
    )


@bp.get("/")
def index():
    articles = services.all_articles()
    form, period = _period()
    stats = {row["slug"]: row for row in insights.articles(period, {})}
    return render_template(
        "editor/index.html",
        articles=sorted(articles, key=lambda a: (a.category, a.lang, a.title)),
        stats=stats,
        categories=load_categories(services.articles_root()),
        missing=services.missing_translations(articles),
        form=form,
    )


def _values(form: ArticleForm) -> services.ArticleDraft:
    return services.ArticleDraft(
        title=form.title.data,
        slug=form.slug.data.strip(),
        lang=form.lang.data,
        category=form.category.data.strip(),
        summary=form.summary.data or "",
        tags=[t.strip() for t in (form.tags.data or "").split(",") if t.strip()],
        questions=question_lines(form.questions.data),
        translation_of=(form.translation_of.data or "").strip(),
        draft=form.draft.data,
        body=form.body.data,
        keep_date=bool(form.minor.data),
    )


def _save(form: ArticleForm, original_slug: str | None):
    try:
        article = services.save(
            _values(form), current_user, original_slug, form.base_hash.data or None
        )
    except services.EditorError as error:
        if error.code == "stale":
            flash(
                _(
                    "Someone saved this article after you opened it. Nothing was overwritten: "
                    "compare below, copy what you need, and open the article again."
                ),
                "error",
            )
            return render_template(
                "editor/edit.html", form=form, slug=original_slug, stale_diff=error.diff
            ), 409
        message = ERRORS.get(error.code) or _(
            "The article is not valid: %(detail)s", detail=error.detail
        )
        flash(_(message) if error.code in ERRORS else message, "error")
        return render_template("editor/edit.html", form=form, slug=original_slug), 400
    flash(_("Saved. Search shows the new version now."), "success")
    return redirect(url_for("editor.edit", slug=article.slug))


@bp.route("/articles/new", methods=["GET", "POST"])
def new():
    form = ArticleForm()
    if form.validate_on_submit():
        return _save(form, None)
    return render_template("editor/edit.html", form=form, slug=None)


@bp.route("/articles/<slug>/edit", methods=["GET", "POST"])
def edit(slug):
    article = services.find(slug) or abort(404)
    form = ArticleForm()
    if form.validate_on_submit():
        return _save(form, slug)
    if request.method == "GET":
        form.process(
            data={
                "title": article.title,
                "slug": article.slug,
                "lang": article.lang,
                "category": article.category,
                "summary": article.summary,
                "tags": ", ".join(article.tags),
                "questions": "\n".join(article.questions),
                "translation_of": article.translation_of or "",
                "draft": article.draft,
                "body": article.body,
                "base_hash": article.content_hash,
            }
        )
    return render_template(
        "editor/edit.html",
        form=form,
        slug=slug,
        article=article,
        learned=evidence.phrases_for_review(slug),
        learned_form=ActionForm(),
    )


@bp.post("/articles/<slug>/learned/<int:phrase_id>/remove")
def remove_learned(slug, phrase_id):
    if not ActionForm().validate_on_submit():
        abort(400)
    if not evidence.remove_learned(slug, phrase_id):
        abort(404)
    flash(_("The phrase is removed; readers will not bring it back."), "success")
    return redirect(url_for("editor.edit", slug=slug) + "#learned")


@bp.post("/articles/<slug>/delete")
def delete(slug):
    if ActionForm().validate_on_submit():
        try:
            services.delete(slug, current_user)
        except services.EditorError:
            abort(404)
        flash(_("The article is deleted; its history keeps every version."), "success")
    return redirect(url_for("editor.index"))


@bp.get("/articles/<slug>/history")
def history(slug):
    versions = revisions.history(slug)
    if not versions:
        abort(404)
    return render_template(
        "editor/history.html",
        slug=slug,
        revisions=versions,
        action_form=ActionForm(),
        current=services.find(slug),
    )


@bp.post("/articles/<slug>/restore/<int:revision_id>")
def restore(slug, revision_id):
    if ActionForm().validate_on_submit():
        try:
            services.restore(slug, revision_id, current_user)
        except services.EditorError:
            abort(404)
        flash(_("That version is the current one again."), "success")
    return redirect(url_for("editor.history", slug=slug))


@bp.post("/from-ticket/<number>")
def from_ticket(number):
    ticket = ticket_for_viewer(number)
    if not ActionForm().validate_on_submit() or ticket.status not in ("resolved", "closed"):
        abort(400)
    slug = draft_from_ticket(ticket, current_user)
    flash(
        _(
            "A draft article was made from the request, with personal data removed. Check it "
            "and untick “Draft” to publish."
        ),
        "success",
    )
    return redirect(url_for("editor.edit", slug=slug))


def _insights(period: insights.Period) -> dict:
    titles = {a.slug: a.title for a in services.all_articles()}
    return {
        "top_queries": insights.top_queries(period),
        "gaps": insights.gaps(period),
        "unopened": insights.unopened(period),
        "articles": insights.articles(period, titles),
        "deflection": insights.deflection(period),
        "tickets": insights.tickets_per_category(period),
        "ratings": insights.ratings(period),
    }


@bp.get("/insights")
def insights_page():
    form, period = _period()
    data = _insights(period)
    weeks = data["deflection"]["by_week"]
    week_chart = bar_chart(  # one week is a single figure, shown above; no chart of it
        [(w[5:], round((r["rate"] or 0) * 100)) for w, r in weeks.items()]
        if len(weeks) > 1
        else [],
        _("Deflection rate by week, %"),
        unit="%",
        max_value=100,
    )
    gap_chart = bar_chart(
        [(g["query"][:28], g["searches"]) for g in data["gaps"][:10]],
        _("Top searches with no result"),
        horizontal=True,
    )
    lang = str(get_locale())
    titles = {k: c.title_in(lang) for k, c in configured_categories().items()}
    for row in data["tickets"]:
        row["title"] = titles.get(row["category"], row["category"])
    return render_template(
        "editor/insights.html",
        form=form,
        week_chart=week_chart,
        gap_chart=gap_chart,
        args=request.args.to_dict(),
        category_titles=titles,
        **data,
    )


@bp.get("/insights/<table>.csv")
def insights_csv(table):
    _form, period = _period()
    data = _insights(period)
    if table == "deflection":
        rows = [
            {"group": k, **v}
            for k, v in (
                {"overall": data["deflection"]["overall"]}
                | data["deflection"]["by_category"]
                | data["deflection"]["by_week"]
            ).items()
        ]
    elif table in data:
        rows = data[table]
    else:
        abort(404)
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: " ".join(v) if isinstance(v, list) else v for k, v in row.items()})
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={table}.csv"},
    )
