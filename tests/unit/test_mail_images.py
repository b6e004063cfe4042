"""E-mail HTML carries no remote images: tracking pixels become links, our attachments stay."""

from portal.mail.images import without_remote_images

BASE = "https://support.example.com"


def test_a_remote_image_becomes_a_link_with_its_alt_text():
    html = '<p>see <img alt="x" src="https://evil.example/p.gif?u=1&amp;v=2"> here</p>'
    assert without_remote_images(html, BASE) == (
        '<p>see <a href="https://evil.example/p.gif?u=1&amp;v=2" rel="noopener noreferrer">'
        "x</a> here</p>"
    )


def test_without_alt_the_url_is_the_text_and_other_schemes_are_only_text():
    assert without_remote_images('<img src="http://evil.example/a.png"/>', BASE) == (
        '<a href="http://evil.example/a.png" rel="noopener noreferrer">'
        "http://evil.example/a.png</a>"
    )
    assert without_remote_images('<img src="cid:logo" alt="&lt;logo&gt;">', BASE) == "&lt;logo&gt;"
    assert without_remote_images("<img>", BASE) == ""


def test_our_own_attachments_stay_images_with_an_absolute_address():
    kept = without_remote_images('<img src="/attachments/12" alt="screen">', BASE)
    assert kept == f'<img src="{BASE}/attachments/12" alt="screen">'
    absolute = f'<img src="{BASE}/attachments/12">'
    assert without_remote_images(absolute, BASE + "/") == absolute
    lookalike = '<img src="https://evil.example/attachments/12">'
    assert "<img" not in without_remote_images(lookalike, BASE)
    assert "<img" not in without_remote_images('<img src="//evil.example/attachments/1">', BASE)


def test_everything_else_passes_through_unchanged():
    html = (
        '<!doctype html>\n<html><body style="font-family: Arial;"><p>a &amp; b &#169; '
        '<a href="https://x.example" title="<img src=https://evil.example/p.gif>">link</a>'
        "</p><!-- note --><br><pre>  x &lt; y</pre></body></html>"
    )
    assert without_remote_images(html, BASE) == html
