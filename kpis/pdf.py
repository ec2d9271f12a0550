"""The branch page as an A4 PDF, drawn by WeasyPrint from the page's own template.

The HTML is the one the browser prints (templates/kpis/branch_year.html under
static/css/print.css); WeasyPrint lays it out with Pango and the system's fonts. Stylesheets
are read from this server's static files, never fetched over the network. The footer
(branch, year, publication date; page numbers from print.css) is drawn in the @page
margin boxes.
"""

import mimetypes
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import tinycss2
from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import content_disposition_header
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

TEMPLATE = "kpis/branch_year.html"
STYLESHEET_LINK = re.compile(r'<link rel="stylesheet" href="([^"]+)"')
SVG_START = re.compile(r"(<svg\b[^>]*>)")
CUSTOM_PROPERTY = re.compile(r"var\((--[\w-]+)\)")
SVG_PAINTING = ("fill", "stroke", "font", "opacity", "text-anchor", "dominant-baseline")


class StaticFilesFetcher(URLFetcher):
    """Serves the page's static files from disk; refuses every other URL."""

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        self.static_prefix = base_url.rstrip("/") + "/" + settings.STATIC_URL.lstrip("/")

    def fetch(self, url, headers=None):
        if not url.startswith(self.static_prefix):
            raise ValueError(f"PDF：静的ファイル以外は読み込みません（{url}）")
        name = unquote(urlsplit(url).path.removeprefix(urlsplit(self.static_prefix).path))
        found = _static_file(name)
        if found is None:
            raise ValueError(f"PDF：静的ファイル {name} が見つかりません")
        content_type = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            found.as_uri(), found.read_bytes(), headers={"Content-Type": content_type}
        )


def _static_file(name: str) -> Path | None:
    """The file the finders know (as WhiteNoise serves them here), else the collected one."""
    if ".." in Path(name).parts:
        return None
    source = finders.find(name)
    if source:
        return Path(source)
    if staticfiles_storage.exists(name):
        return Path(staticfiles_storage.path(name))
    return None


def published_at(plan, publication=None):
    """When the version the document shows was published; None when it is not (未公表)."""
    if publication is not None and publication.shows_snapshot:
        return publication.snapshot.published_at
    if plan is not None and plan.is_published:
        return plan.published_at
    return None


def publication_label(plan, publication=None) -> str:
    published = published_at(plan, publication)
    if published is None:
        return "未公表"
    published = timezone.localtime(published)
    return f"公表日 {published.year}年{published.month}月{published.day}日"


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def footer_css(context) -> str:
    """The footer's words for this document; print.css places and styles the margin boxes."""
    report = context["report"]
    publication = publication_label(report.plan, context.get("publication"))
    words = f"{report.branch.name}　{report.fiscal_year.label}　{publication}"
    return f"@page {{ @bottom-left {{ content: {_css_string(words)}; }} }}"


def chart_style(stylesheets: list[str]) -> str:
    """The drawing rules for charts in the page's stylesheets, with the custom properties
    replaced by their values.

    WeasyPrint draws an inline SVG with the styles inside it only, and knows no var() there:
    without these rules a chart's lines would be filled black and its labels full size. Only
    painting properties are kept: the box of the <svg> is laid out by the page's own CSS.
    """
    variables: dict[str, str] = {}
    rules: list[str] = []
    for text in stylesheets:
        for rule in tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True):
            if rule.type != "qualified-rule":
                continue
            selector = tinycss2.serialize(rule.prelude).strip()
            declarations = [
                item
                for item in tinycss2.parse_blocks_contents(
                    rule.content, skip_whitespace=True, skip_comments=True
                )
                if item.type == "declaration"
            ]
            if selector == ":root":
                variables.update(
                    (item.name, tinycss2.serialize(item.value).strip())
                    for item in declarations
                    if item.name.startswith("--")
                )
            elif "chart" in selector:
                painting = [
                    f"{item.name}:{tinycss2.serialize(item.value).strip()}"
                    for item in declarations
                    if item.lower_name.startswith(SVG_PAINTING)
                ]
                if painting:
                    rules.append(f"{selector}{{{';'.join(painting)}}}")
    return CUSTOM_PROPERTY.sub(lambda m: variables.get(m[1], "initial"), "".join(rules))


def _with_chart_style(html: str, fetcher: StaticFilesFetcher, base_url: str) -> str:
    stylesheets = [
        fetcher.fetch(base_url.rstrip("/") + href).read().decode()
        for href in STYLESHEET_LINK.findall(html)
    ]
    style = f"<style>{chart_style(stylesheets)}</style>"
    return SVG_START.sub(lambda m: m[1] + style, html)


def branch_year_pdf(request, context) -> bytes:
    """The branch page of `context` (as the branch_year view builds it) as PDF bytes."""
    base_url = request.build_absolute_uri("/")
    fetcher = StaticFilesFetcher(base_url)
    html = _with_chart_style(render_to_string(TEMPLATE, context, request), fetcher, base_url)
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher, media_type="print")
    return document.write_pdf(stylesheets=[CSS(string=footer_css(context))])


def branch_year_response(request, context) -> HttpResponse:
    """The PDF as a download named after the document (埼玉支部_令和5年度_実施状況.pdf)."""
    report = context["report"]
    name = f"{report.branch.name}_{report.fiscal_year.era_label}_実施状況.pdf"
    return HttpResponse(
        branch_year_pdf(request, context),
        content_type="application/pdf",
        headers={"Content-Disposition": content_disposition_header(True, name)},
    )
