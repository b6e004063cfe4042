"""Small server-rendered SVG bar charts: no script, no CDN, escaped labels."""

from markupsafe import Markup, escape


def bar_chart(
    rows: list[tuple[str, float]],
    title: str,
    unit: str = "",
    max_value: float | None = None,
    horizontal: bool = False,
) -> Markup:
    """An accessible SVG bar chart of (label, value) rows."""
    if not rows:
        return Markup("")
    top = max_value or max(v for _, v in rows) or 1
    if horizontal:
        width, bar_h, label_w = 640, 22, 220
        height = len(rows) * (bar_h + 6) + 30
        parts = [f'<text x="0" y="16" class="chart-title">{escape(title)}</text>']
        for i, (label, value) in enumerate(rows):
            y = 28 + i * (bar_h + 6)
            w = (width - label_w - 50) * value / top
            parts.append(
                f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">'
                f"{escape(label)}</text>"
                f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" rx="3"/>'
                f'<text x="{label_w + w + 6:.1f}" y="{y + 15}">{value:g}{unit}</text>'
            )
    else:
        width, height, base = max(320, 60 * len(rows)), 220, 180
        parts = [f'<text x="0" y="16" class="chart-title">{escape(title)}</text>']
        step = width / len(rows)
        for i, (label, value) in enumerate(rows):
            h = (base - 40) * value / top
            x = i * step + step * 0.2
            parts.append(
                f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{step * 0.6:.1f}" '
                f'height="{h:.1f}" rx="3"/>'
                f'<text x="{x + step * 0.3:.1f}" y="{base - h - 6:.1f}" '
                f'text-anchor="middle">{value:g}{unit}</text>'
                f'<text x="{x + step * 0.3:.1f}" y="{base + 16}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    body = "".join(parts)
    return Markup(
        f'<svg class="chart" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="100%">{body}</svg>'
    )
