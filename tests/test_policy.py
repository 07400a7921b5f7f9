"""The cookie policy rendered from a registry: every format, every language."""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from tests.support.seed_registries import KOPANO, KOPANO_SEED, OPENDATASOFT, OPENDATASOFT_SEEDS

from cookieguard import Category, Cookie, Registry, i18n
from cookieguard.policy import FORMATS, lifetime, policy_data, render

SCHEMA = Path(__file__).parent.parent / "docs" / "policy-schema.json"
VOID = {"meta", "link", "br", "hr", "img", "input", "col", "area", "base", "source", "wbr"}


class PolicyParser(HTMLParser):
    """Checks that tags balance, and reads back category -> cookie names."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.categories: dict[str, list[str]] = {}
        self.scripts = 0
        self._current: str | None = None
        self._text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts += 1
        if tag not in VOID:
            self.stack.append(tag)
        if tag in ("h2", "code"):
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
        if self._text is None:
            return
        text = "".join(self._text)
        self._text = None
        if tag == "h2":
            self._current = text
            self.categories[text] = []
        elif tag == "code" and self._current is not None:
            self.categories[self._current].append(text)

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def parse_html(html: str) -> PolicyParser:
    parser = PolicyParser()
    parser.feed(html)
    parser.close()
    assert parser.errors == []
    assert parser.stack == [], f"unclosed tags: {parser.stack}"
    return parser


def markdown_categories(markdown: str) -> dict[str, list[str]]:
    categories: dict[str, list[str]] = {}
    current = None
    for line in markdown.splitlines():
        if line.startswith("## "):
            current = line[3:].replace("\\", "")
            categories[current] = []
        elif line.startswith("| `") and current is not None:
            categories[current].append(line.split("`")[1])
    return categories


def rendered_categories(registry: Registry, fmt: str, lang: str = "en") -> dict[str, list[str]]:
    """Category title -> cookie names, read back from the rendered output."""
    output = render(registry, fmt, lang)  # type: ignore[arg-type]
    if fmt == "json":
        data = json.loads(output)
        return {c["title"]: [k["name"] for k in c["cookies"]] for c in data["categories"]}
    if fmt == "md":
        return markdown_categories(output)
    return parse_html(output).categories


def kopano_seed_table() -> dict[str, list[str]]:
    """The seed page's own table: category heading -> cookie names, in its order."""
    text = KOPANO_SEED.read_text("utf-8")
    table = text.split("The below list details the cookies used in our website:")[1]
    table = table.split("How can I control")[0]
    titles = {c.title for c in KOPANO.categories}
    seed: dict[str, list[str]] = {}
    current = None
    for line in table.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) < 3 or cells[0] in ("Cookie", "---"):
            continue
        if cells[0] in titles and not cells[1]:
            current = cells[0]
            seed[current] = []
        else:
            assert current is not None, f"{cells[0]!r} comes before any category"
            seed[current].append(cells[0])
    return seed


# Locally the seed pages may be absent; in CI (``CI`` set) they sit beside the clone: read them.
SEEDS_ABSENT = not KOPANO_SEED.exists() and not os.environ.get("CI")
needs_seeds = pytest.mark.skipif(SEEDS_ABSENT, reason="the seed pages are not here")


@needs_seeds
def test_the_kopano_registry_transcribes_every_category_and_cookie_of_the_seed() -> None:
    seed = kopano_seed_table()
    assert list(seed) == [c.title for c in KOPANO.categories]
    assert sum(len(names) for names in seed.values()) == len(KOPANO.cookies) == 20


@needs_seeds
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("lang", ["en", "fr", "de"])
def test_every_kopano_cookie_appears_in_its_category(fmt: str, lang: str) -> None:
    rendered = rendered_categories(KOPANO, fmt, lang)
    for title, names in kopano_seed_table().items():
        assert set(names) <= set(rendered[title]), title
    # The consent cookie cookieguard sets is listed too, as necessary.
    assert rendered["Necessary"][0] == "cookies_preferences"


@pytest.mark.skipif(
    not OPENDATASOFT_SEEDS and not os.environ.get("CI"), reason="the seed pages are not here"
)
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_opendatasoft_cookie_appears_as_necessary(fmt: str) -> None:
    seed_names = set()
    for seed in OPENDATASOFT_SEEDS:
        for line in seed.read_text("utf-8").splitlines():
            cells = line.split("\t")
            if len(cells) >= 3 and cells[0] == "Opendatasoft":
                seed_names.add(cells[2].strip())
    assert seed_names == {"sessionid", "django_language", "csrftoken", "cookies_preferences"}
    rendered = rendered_categories(OPENDATASOFT, fmt)
    necessary = OPENDATASOFT.category("necessary").title
    assert sorted(rendered[necessary]) == sorted(seed_names)  # declared: not listed twice
    assert rendered["Statistical cookies"] == []


HOSTILE = Registry(
    [
        Category("necessary", required=True, label="Needed & <b>bold</b>"),
        Category("ads", label='Ads | "pipes"', description="Shown <i>to</i> partners"),
    ],
    [
        Cookie("sid", "necessary", provider="A & B", purpose="<script>alert(1)</script>"),
        Cookie("ad_*", "ads", purpose="line one\nline | two", duration="1 *year*"),
    ],
)


@pytest.mark.parametrize("fmt", ["fragment", "html"])
def test_html_escapes_registry_text(fmt: str) -> None:
    html = render(HOSTILE, fmt)  # type: ignore[arg-type]
    parsed = parse_html(html)
    assert parsed.scripts == 0
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "A &amp; B" in html
    assert "<b>" not in html and "<i>" not in html
    assert list(parsed.categories) == ["Needed & <b>bold</b>", 'Ads | "pipes"']


def test_the_page_is_a_whole_document_and_the_fragment_is_not() -> None:
    page, fragment = render(KOPANO, "html", "de"), render(KOPANO, "fragment", "de")
    assert page.startswith("<!doctype html>") and '<html lang="de">' in page
    assert "<title>Cookie-Richtlinie</title>" in page
    assert fragment.startswith('<section class="cookieguard-policy" lang="de">')
    assert "<html" not in fragment and fragment.strip() in page


def test_markdown_escapes_registry_text() -> None:
    md = render(HOSTILE, "md")
    assert "\\<script\\>alert(1)\\</script\\>" in md
    assert "<script>" not in md
    assert "A \\& B" in md
    row = next(line for line in md.splitlines() if line.startswith("| `ad_*`"))
    # One table row: the newline is folded, the pipe escaped, the emphasis literal.
    assert "line one line \\| two" in row
    assert "1 \\*year\\*" in row
    assert row.count(" | ") == 3 and row.endswith(" |")


def test_patterns_are_shown_as_patterns() -> None:
    data = policy_data(KOPANO)
    matomo = [c for cat in data["categories"] for c in cat["cookies"] if c["name"] == "_pk_id.*"]
    assert matomo[0]["pattern"] is True
    html = render(KOPANO, "fragment")
    assert "<code>_pk_id.*</code> <small>(pattern: * stands for any characters)</small>" in html
    assert "`_pk_id.*` (pattern: \\* stands for any characters)" in render(KOPANO, "md")


@pytest.mark.parametrize(
    ("lang", "heading", "purpose_column"),
    [
        ("en", "Cookie policy", "Purpose"),
        ("fr", "Politique relative aux cookies", "Finalité"),
        ("de", "Cookie-Richtlinie", "Zweck"),
    ],
)
def test_headings_are_translated_and_registry_text_is_not(
    lang: str, heading: str, purpose_column: str
) -> None:
    page = render(KOPANO, "html", lang)
    assert f"<h1>{heading}</h1>" in page
    assert f'<th scope="col">{purpose_column}</th>' in page
    assert "This cookie is necessary if you want to use the Kopano webshop." in page
    assert render(KOPANO, "md", lang).startswith(f"# {heading}\n")
    assert json.loads(render(KOPANO, "json", lang))["language"] == lang


def test_policy_catalogues_have_the_same_keys_in_every_language() -> None:
    locales = Path(i18n.__file__).parent / "locales"
    keys = {
        lang: set(json.loads((locales / f"policy.{lang}.json").read_text("utf-8")))
        for lang in ("en", "fr", "de")
    }
    assert keys["en"] == keys["fr"] == keys["de"]
    assert {"en", "fr", "de"} <= set(i18n.languages())


def test_a_declared_consent_cookie_is_not_listed_twice() -> None:
    names = [c["name"] for cat in policy_data(OPENDATASOFT)["categories"] for c in cat["cookies"]]
    assert names.count("cookies_preferences") == 1
    renamed = KOPANO.with_consent_cookie("consent")
    assert policy_data(renamed)["categories"][0]["cookies"][0]["name"] == "consent"
    bare = policy_data(KOPANO, include_consent_cookie=False)
    assert "cookies_preferences" not in json.dumps(bare)


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="'pdf'"):
        render(KOPANO, "pdf")  # type: ignore[arg-type]


# -- the JSON form against its published schema ---------------------------------------

_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


def validate(value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    """The subset of JSON Schema the policy schema uses: enough to fail on drift."""
    errors: list[str] = []
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        ok = any(
            (isinstance(value, int) and not isinstance(value, bool))
            if t == "integer"
            else isinstance(value, _TYPES[t])
            for t in types
        )
        if not ok:
            return [f"{where}: {value!r} is not {types}"]
    if "const" in schema and value != schema["const"]:
        errors.append(f"{where}: {value!r} is not {schema['const']!r}")
    if "minimum" in schema and value < schema["minimum"]:
        errors.append(f"{where}: {value!r} < {schema['minimum']}")
    if "minLength" in schema and len(value) < schema["minLength"]:
        errors.append(f"{where}: {value!r} is too short")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        errors += [f"{where}: missing {k!r}" for k in schema.get("required", []) if k not in value]
        if schema.get("additionalProperties") is False:
            errors += [f"{where}: unexpected {k!r}" for k in value if k not in properties]
        for key, item in value.items():
            if key in properties:
                errors += validate(item, properties[key], f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errors += validate(item, schema["items"], f"{where}[{i}]")
    return errors


def resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """Inline the schema's local ``$ref``s."""
    if "$ref" in schema:
        return resolve(root["$defs"][schema["$ref"].rsplit("/", 1)[1]], root)
    out = dict(schema)
    if "properties" in out:
        out["properties"] = {k: resolve(v, root) for k, v in out["properties"].items()}
    if "items" in out:
        out["items"] = resolve(out["items"], root)
    return out


@pytest.mark.parametrize("registry", [KOPANO, OPENDATASOFT, HOSTILE], ids=["kopano", "ods", "x"])
def test_the_json_form_matches_its_schema(registry: Registry) -> None:
    root = json.loads(SCHEMA.read_text("utf-8"))
    schema = resolve(root, root)
    for lang in ("en", "fr"):
        assert validate(json.loads(render(registry, "json", lang)), schema) == []


def test_the_schema_check_catches_drift() -> None:
    root = json.loads(SCHEMA.read_text("utf-8"))
    schema = resolve(root, root)
    data = policy_data(KOPANO)
    data["categories"][0]["cookies"][0]["pattern"] = "no"
    data["extra"] = 1
    del data["revision"]
    errors = validate(data, schema)
    assert any("pattern" in e for e in errors)
    assert any("'extra'" in e for e in errors)
    assert any("'revision'" in e for e in errors)


def test_the_json_form_is_stable() -> None:
    data = json.loads(render(OPENDATASOFT, "json"))
    assert list(data) == ["schema_version", "revision", "language", "title", "categories"]
    assert data["schema_version"] == 1
    assert re.fullmatch(r"\d+", str(data["revision"]))
    first = data["categories"][0]["cookies"][0]
    assert first == {
        "name": "sessionid",
        "pattern": False,
        "provider": "Opendatasoft",
        "purpose": "To remember the user from one page to another",
        "duration": "",
        "path": "/",
        "domain": None,
        "service": None,
    }
    assert data["categories"][0]["services"] == []


@pytest.mark.parametrize(
    ("seconds", "lang", "text"),
    [
        (15_724_800, "en", "182 days"),
        (86_400, "en", "1 day"),
        (3_600, "fr", "1 heure"),
        (5_400, "de", "90 Minuten"),
        (90_061, "en", "90061 seconds"),
        (15_724_800, "fr", "182 jours"),
        (15_724_800, "de", "182 Tage"),
    ],
)
def test_a_lifetime_is_written_in_the_largest_exact_unit(
    seconds: int, lang: str, text: str
) -> None:
    assert lifetime(seconds, lang) == text


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_consent_cookie_shows_its_real_lifetime(fmt: str) -> None:
    registry = Registry([Category("necessary", required=True)], [])
    default = render(registry, fmt)  # type: ignore[arg-type]
    assert "182 days" in default  # the default max_age, 15724800 seconds
    assert "Not specified" not in default
    week = render(registry, fmt, "de", consent_max_age=7 * 86_400)  # type: ignore[arg-type]
    assert "7 Tage" in week
    consent = policy_data(registry, consent_max_age=3_600)["categories"][0]["cookies"][0]
    assert (consent["name"], consent["duration"]) == ("cookies_preferences", "1 hour")


def test_the_sites_own_translations_reach_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i18n, "_by_registry", {})
    registry = Registry(
        [Category("necessary", required=True, label="Necessary", description="Needed.")],
        [Cookie("sessionid", "necessary", purpose="Sign-in", duration="2 weeks")],
    )
    i18n.add_language(
        "fr",
        {
            "category.necessary.label": "Nécessaires",
            "category.necessary.description": "Indispensables.",
            "cookie.sessionid.purpose": "Connexion",
            "cookie.sessionid.duration": "2 semaines",
        },
        registry=registry,
    )
    data = policy_data(registry, "fr")
    category = data["categories"][0]
    assert (category["title"], category["description"]) == ("Nécessaires", "Indispensables.")
    sessionid = category["cookies"][1]
    assert (sessionid["purpose"], sessionid["duration"]) == ("Connexion", "2 semaines")
    assert policy_data(registry, "en")["categories"][0]["title"] == "Necessary"


# -- services ---------------------------------------------------------------------------

# The seed names a third party in each of these descriptions: the registry declares them.
KOPANO_SERVICES = {
    "Commercial": {
        "YouTube": ["GPS", "VISITOR_INFO1_LIVE", "YSC"],
        "Google DoubleClick": ["IDE"],
        "Google reCAPTCHA": ["NID"],
    },
    "Not required": {"Matomo": ["_pk_id.*", "_pk_ses.*"], "Akamai Bot Manager": ["bm_sz", "_abck"]},
}


class ServiceParser(HTMLParser):
    """Reads back category -> service -> (its text, its cookie names) from the HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.services: dict[str, dict[str, tuple[str, list[str]]]] = {}
        self._category = ""
        self._service: str | None = None
        self._capture: str | None = None
        self._buffer: list[str] = []
        self._text: list[str] = []
        self._in_table = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = dict(attrs).get("class") or ""
        if "cookieguard-policy-category" in classes:
            self._service = None
        self._in_table = self._in_table or tag == "table"
        if tag in ("h2", "h3") or (tag == "code" and self._in_table):
            self._capture, self._buffer = tag, []

    def handle_endtag(self, tag: str) -> None:
        self._in_table = self._in_table and tag != "table"
        if tag != self._capture:
            return
        text, self._capture = "".join(self._buffer).strip(), None
        if tag == "h2":
            self._category = text
            self.services.setdefault(text, {})
        elif tag == "h3":
            self._service, self._text = text, []
            self.services[self._category][text] = ("", [])
        elif self._service is not None:
            _, names = self.services[self._category][self._service]
            names.append(text)

    def handle_data(self, data: str) -> None:
        if self._capture is not None:
            self._buffer.append(data)
        if self._service is not None:
            self._text.append(data)
            prose, names = self.services[self._category][self._service]
            self.services[self._category][self._service] = (prose + data, names)


def markdown_services(text: str) -> dict[str, dict[str, tuple[str, list[str]]]]:
    found: dict[str, dict[str, tuple[str, list[str]]]] = {}
    category, service = "", None
    for line in text.splitlines():
        if line.startswith("## "):
            category, service = line[3:], None
            found[category] = {}
        elif line.startswith("### "):
            service = line[4:]
            found[category][service] = ("", [])
        elif service is not None:
            prose, names = found[category][service]
            match = re.match(r"\| `([^`]+)`", line)
            found[category][service] = (prose + line, [*names, *([match[1]] if match else [])])
    return found


def rendered_services(fmt: str, lang: str = "en") -> dict[str, dict[str, tuple[str, list[str]]]]:
    output = render(KOPANO, fmt, lang)  # type: ignore[arg-type]
    if fmt == "json":
        data = json.loads(output)
        return {
            c["title"]: {
                s["title"]: (f"{s['provider']} {' '.join(s['hosts'])}", s["cookies"])
                for s in c["services"]
            }
            for c in data["categories"]
        }
    if fmt == "md":
        return markdown_services(output)
    parser = ServiceParser()
    parser.feed(output)
    return parser.services


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_kopano_cookies_are_grouped_by_service_with_provider_and_hosts(fmt: str, lang: str) -> None:
    rendered = rendered_services(fmt, lang)
    for category, services in KOPANO_SERVICES.items():
        assert list(rendered[category]) == list(services), category
        for title, names in services.items():
            prose, listed = rendered[category][title]
            assert listed == names, title
            service = next(s for s in KOPANO.services if s.title == title)
            assert service.provider in prose
            for host in service.hosts:
                assert host.replace("*", "\\*" if fmt == "md" else "*") in prose or host in prose
    assert rendered["Necessary"] == {} and rendered["Kopano Cookies"] == {}


@pytest.mark.parametrize("fmt", ["fragment", "md"])
def test_cookies_of_no_service_come_before_the_services(fmt: str) -> None:
    output = render(KOPANO, fmt)  # type: ignore[arg-type]
    not_required = output[output.index("Not required") :]
    assert not_required.index("test_cookie") < not_required.index("Matomo")


def test_service_texts_are_escaped_and_translatable(monkeypatch: pytest.MonkeyPatch) -> None:
    from cookieguard import Service

    registry = Registry(
        [Category("necessary", required=True), Category("video")],
        [Cookie("v", "video", service="tube")],
        services=[Service("tube", "video", label="<b>Tube</b>", provider="A & B", purpose="*x*")],
    )
    html = render(registry, "fragment")
    assert "&lt;b&gt;Tube&lt;/b&gt;" in html and "A &amp; B" in html
    assert "\\*x\\*" in render(registry, "md")
    data = policy_data(registry)
    assert data["categories"][1]["services"] == [
        {
            "name": "tube",
            "title": "<b>Tube</b>",
            "provider": "A & B",
            "purpose": "*x*",
            "hosts": [],
            "cookies": ["v"],
        }
    ]
    assert data["categories"][1]["cookies"][0]["service"] == "tube"


def test_a_service_without_cookies_says_so() -> None:
    from cookieguard import Service

    registry = Registry(
        [Category("necessary", required=True), Category("video")],
        [],
        services=[Service("tube", "video", hosts=["https://tube.example"])],
    )
    html = render(registry, "fragment")
    assert "Tube" in html and "https://tube.example" in html
    assert i18n.messages("en")["policy.service.no_cookies"] in html
    assert i18n.messages("en")["policy.empty"] not in html
