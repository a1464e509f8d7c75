#!/usr/bin/env python3
"""Drive Kicau's sandbox with real, independently written client libraries.

The sandbox (../../../shared/SANDBOX.md) must speak the published wire formats of the X API v2,
the Telegram Bot API and the WhatsApp Cloud API, so that unmodified client libraries work against
it. This script points four such libraries at a running sandbox and prints one line per check:

    PASS <name>
    FAIL <name>: <reason>

then a closing line `N passed, M failed`, and exits 1 when any check failed.

Libraries (versions pinned in requirements.txt; README.md says how each one reaches the sandbox):
- X: the official SDK `xdk` (post vocabulary, OpenAPI v2.167) and `tweepy` (tweet vocabulary);
- Telegram: `python-telegram-bot`;
- WhatsApp: `pywa`, including its webhook signature check and update parsing.

Each section is independent: a failure (or a crash) in one does not stop the others. A check
that needs the result of an earlier, failed one is reported as FAIL with `blocked: ...`.

Usage (run.sh does all of this):

    python check.py --config /work/main/.real-clients.toml [--strict on|off|refused]

The configuration is the bot.toml copy the sandbox was started with: addresses and the sandbox's
public credentials are read from it.
"""

from __future__ import annotations

import os

# oauthlib refuses plain-HTTP OAuth 2.0 endpoints unless told otherwise; the sandbox listens on
# loopback without TLS. This is oauthlib's documented switch, set before anything imports it.
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")

import argparse
import asyncio
import base64
import datetime as dtm
import http.server
import json
import logging
import re
import secrets
import struct
import sys
import threading
import time
import tomllib
import traceback
import urllib.parse
import zlib
from pathlib import Path
from typing import Any, Callable

import requests

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_SPEC_DIR = REPO.parent / "shared" / "data" / "x-api"
HTTP_TIMEOUT = 20


# --- Reporting ---------------------------------------------------------------------------------


class CheckFailed(Exception):
    """A check's expectation did not hold; the message is the reason printed."""


class Blocked(Exception):
    """A check could not run because a check it depends on failed."""


def short(text: Any, limit: int = 400) -> str:
    """One line of at most `limit` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Report:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0
        self.lock = threading.Lock()

    def line(self, name: str, ok: bool, reason: str = "") -> None:
        with self.lock:
            if ok:
                self.passed += 1
                print(f"PASS {name}", flush=True)
            else:
                self.failed += 1
                print(f"FAIL {name}: {short(reason, 900)}", flush=True)


class Section:
    """A group of checks with a name prefix; remembers which passed, for dependencies."""

    def __init__(self, report: Report, prefix: str) -> None:
        self.report = report
        self.prefix = prefix
        self.ok: dict[str, bool] = {}
        self.values: dict[str, Any] = {}

    def check(self, name: str, fn: Callable[[], Any]) -> Any:
        """Runs `fn`; PASS when it returns, FAIL with the reason when it raises."""
        full = f"{self.prefix}.{name}"
        try:
            value = fn()
        except Blocked as e:
            self.ok[name] = False
            self.report.line(full, False, f"blocked: {e}")
            return None
        except CheckFailed as e:
            self.ok[name] = False
            self.report.line(full, False, str(e))
            return None
        except Exception as e:  # a library error is a finding too
            self.ok[name] = False
            self.report.line(full, False, describe_exception(e))
            return None
        self.ok[name] = True
        self.values[name] = value
        self.report.line(full, True)
        return value

    def need(self, *names: str) -> None:
        for name in names:
            if not self.ok.get(name):
                raise Blocked(f"{self.prefix}.{name} failed")


def expect(condition: bool, reason: str) -> None:
    if not condition:
        raise CheckFailed(reason)


def expect_all(problems: list[str]) -> None:
    if problems:
        raise CheckFailed("; ".join(problems))


def response_summary(r: requests.Response | None) -> str:
    if r is None:
        return "(no response)"
    req = r.request
    url = urllib.parse.urlsplit(req.url)
    target = url.path + (f"?{urllib.parse.unquote(url.query)}" if url.query else "")
    ctype = r.headers.get("content-type", "")
    return f"{req.method} {target} -> {r.status_code} [{ctype}] {short(r.text, 500)}"


def describe_exception(e: BaseException) -> str:
    response = getattr(e, "response", None)
    if isinstance(response, requests.Response):
        return f"{type(e).__name__}: {response_summary(response)}"
    # pydantic's ValidationError: say which field and what it got.
    if type(e).__name__ == "ValidationError" and hasattr(e, "errors"):
        try:
            errs = e.errors()[:3]
            parts = [
                f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg')} "
                f"(got {short(repr(err.get('input')), 160)})"
                for err in errs
            ]
            return f"pydantic ValidationError in the library's response model: {' | '.join(parts)}"
        except Exception:
            pass
    tb = traceback.extract_tb(e.__traceback__)
    where = f" at {Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
    return f"{type(e).__name__}{where}: {short(e, 600)}"


# --- HTTP plumbing shared by the requests-based libraries --------------------------------------


class TimeoutAdapter(requests.adapters.HTTPAdapter):
    """Gives every request a timeout (xdk and tweepy send none), so a hung server fails a check
    instead of the run."""

    def send(self, request, **kwargs):  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = HTTP_TIMEOUT
        return super().send(request, **kwargs)


class Recorder:
    """A requests response hook that keeps every response a library received."""

    def __init__(self) -> None:
        self.responses: list[requests.Response] = []

    def __call__(self, response: requests.Response, *args, **kwargs) -> None:
        self.responses.append(response)

    def attach(self, session: requests.Session) -> None:
        session.hooks["response"].append(self)
        session.mount("http://", TimeoutAdapter())
        session.mount("https://", TimeoutAdapter())

    def last(self, method: str | None = None, path_re: str | None = None) -> requests.Response | None:
        for r in reversed(self.responses):
            if method and r.request.method != method:
                continue
            if path_re and not re.search(path_re, urllib.parse.urlsplit(r.request.url).path):
                continue
            return r
        return None


def json_of(r: requests.Response | None) -> Any:
    if r is None:
        return None
    try:
        return r.json()
    except ValueError:
        return None


# --- OpenAPI validation ------------------------------------------------------------------------


class Specs:
    """Validates response bodies against the component schemas of X's OpenAPI files (v2.167 for
    the post vocabulary, v2.159 for the tweet vocabulary), $refs resolved inside each file."""

    # (method, path pattern, operation label, v2.167 schema, v2.159 schema). A v2.159 schema of
    # None means the operation is checked against v2.167 whatever the vocabulary: media upload
    # names no tweets or posts, and v2.159's MediaUploadResponse requires a `meta` property it
    # never defines (X's answers carry none, e.g. xdevplatform/xurl#18); v2.167 dropped it.
    OPERATIONS = [
        ("GET", r"^/2/users/me$", "getUsersMe", "GetUsersMeResponse", "Get2UsersMeResponse"),
        ("GET", r"^/2/users/by/username/[^/]+$", "getUsersByUsername",
         "GetUsersByUsernameResponse", "Get2UsersByUsernameUsernameResponse"),
        ("GET", r"^/2/users/[0-9]+/mentions$", "getUsersMentions",
         "GetUsersMentionsResponse", "Get2UsersIdMentionsResponse"),
        ("GET", r"^/2/users/[0-9]+/tweets$", "getUsersPosts",
         "GetUsersPostsResponse", "Get2UsersIdTweetsResponse"),
        ("POST", r"^/2/tweets$", "createPosts", "CreatePostsResponse", "TweetCreateResponse"),
        ("GET", r"^/2/tweets/[0-9]+$", "getPostsById", "GetPostsByIdResponse", "Get2TweetsIdResponse"),
        ("DELETE", r"^/2/tweets/[0-9]+$", "deletePosts", "DeletePostsResponse", "TweetDeleteResponse"),
        ("POST", r"^/2/media/upload$", "mediaUpload", "MediaUploadResponse", None),
        ("GET", r"^/2/media/upload$", "getMediaUploadStatus", "GetMediaUploadStatusResponse", None),
        ("POST", r"^/2/media/upload/initialize$", "initializeMediaUpload", "InitializeMediaUploadResponse", None),
        ("POST", r"^/2/media/upload/[0-9]+/append$", "appendMediaUpload", "AppendMediaUploadResponse", None),
        ("POST", r"^/2/media/upload/[0-9]+/finalize$", "finalizeMediaUpload", "FinalizeMediaUploadResponse", None),
        ("POST", r"^/2/media/metadata$", "createMediaMetadata", "CreateMediaMetadataResponse", None),
    ]

    def __init__(self, spec_dir: Path) -> None:
        import jsonschema
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT4

        self.jsonschema = jsonschema
        self.files = {"v2.167": spec_dir / "openapi.json", "v2.159": spec_dir / "openapi-v2.159.json"}
        self.registry = Registry()
        self.schemas: dict[str, dict] = {}
        for key, path in self.files.items():
            spec = json.loads(path.read_text(encoding="utf-8"))
            self.schemas[key] = spec["components"]["schemas"]
            self.registry = self.registry.with_resource(
                f"urn:x-openapi:{key}", Resource.from_contents(spec, default_specification=DRAFT4)
            )

    def errors(self, version: str, schema: str, body: Any, limit: int = 3) -> list[str]:
        if schema not in self.schemas[version]:
            return [f"schema {schema} not in {version}"]
        validator = self.jsonschema.Draft4Validator(
            {"$ref": f"urn:x-openapi:{version}#/components/schemas/{schema}"}, registry=self.registry
        )
        out = []
        for err in validator.iter_errors(body):
            where = "/".join(str(p) for p in err.absolute_path) or "(root)"
            message = short(err.message, 2000)
            if err.validator in ("oneOf", "anyOf") and isinstance(err.instance, dict):
                message = (f"matches none of the {err.validator} schemas "
                           f"(its type is {err.instance.get('type')!r})")
            elif len(message) > 240:
                message = message[:100] + " ... " + message[-120:]
            out.append(f"{where}: {message}")
            if len(out) >= limit:
                break
        return out

    def operation(self, method: str, path: str) -> tuple[str, str, str | None] | None:
        for m, pattern, label, new, old in self.OPERATIONS:
            if m == method and re.search(pattern, path):
                return label, new, old
        return None


def schema_checks(section: Section, specs: Specs | None, recorder: Recorder, version: str) -> None:
    """One check per X operation the library called: every 2xx JSON body it received must
    validate against the operation's response schema in the spec of its vocabulary."""
    if specs is None:
        section.check("schema", lambda: (_ for _ in ()).throw(CheckFailed("OpenAPI files not loaded")))
        return
    seen: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for r in recorder.responses:
        path = urllib.parse.urlsplit(r.request.url).path
        op = specs.operation(r.request.method, path)
        if op is None or not 200 <= r.status_code < 300:
            continue
        label, new, old = op
        body = json_of(r)
        counts[label] = counts.get(label, 0) + 1
        errs = seen.setdefault(label, [])
        if body is None:
            errs.append(f"{r.request.method} {path}: body is not JSON")
            continue
        spec_version, schema = (version, old) if version != "v2.167" and old else ("v2.167", new)
        for e in specs.errors(spec_version, schema, body):
            if len(errs) < 3:
                errs.append(f"{r.request.method} {path} vs {spec_version} {schema}: {e}")
    for label in sorted(seen):
        errs = seen[label]
        section.check(f"schema.{label}", lambda errs=errs, label=label: expect_all(errs))


def rate_limit_header_check(section: Section, recorder: Recorder) -> None:
    def run() -> None:
        missing = []
        count = 0
        for r in recorder.responses:
            path = urllib.parse.urlsplit(r.request.url).path
            if not path.startswith("/2/") or path.startswith("/2/oauth2/"):
                continue
            if json_of(r) is None:  # a route the sandbox lacks (empty 404): reported by its own check
                continue
            count += 1
            lacking = [h for h in ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset")
                       if h not in r.headers]
            if lacking:
                missing.append(f"{r.request.method} {path} -> {r.status_code} lacks {','.join(lacking)}")
        expect(count > 0, "no X API response was recorded")
        expect_all(missing[:3])

    section.check("rate-limit-headers", run)


# --- The X sandbox: shared helpers -------------------------------------------------------------


def tiny_png() -> bytes:
    """A valid 2x2 RGB PNG, made here so the upload carries a real image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes([200, 30, 30, 30, 200, 30]) for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class XSandbox:
    """Plain-HTTP access to the X sandbox for what no client library does: acting as citizens
    (`Bearer sandbox-user:<name>`) and the control endpoints."""

    def __init__(self, cfg: dict) -> None:
        sb = cfg["sandbox"]
        self.url = sb["x_url"].rstrip("/")
        self.handle = cfg["account"]["handle"]
        self.display_name = cfg["account"]["display_name"]
        self.consumer_key = sb["consumer_key"]
        self.consumer_secret = sb["consumer_secret"]
        self.access_token = sb["access_token"]
        self.access_secret = sb["access_secret"]
        self.client_id = sb.get("client_id", "sandbox-client-id")
        self.client_secret = sb.get("client_secret", "sandbox-client-secret")
        self.redirect_uri = cfg.get("x", {}).get("redirect_uri", "http://127.0.0.1:8085/callback")
        self.http = requests.Session()
        self.http.mount("http://", TimeoutAdapter())
        self._photos: list[dict] | None = None

    def citizen_post(self, username: str, text: str, reply_to: str | None = None,
                     media_ids: list[str] | None = None) -> str:
        body: dict[str, Any] = {"text": text}
        if reply_to:
            body["reply"] = {"in_reply_to_tweet_id": reply_to}
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        r = self.http.post(f"{self.url}/2/tweets", json=body,
                           headers={"Authorization": f"Bearer sandbox-user:{username}"})
        if r.status_code != 201:
            raise CheckFailed(f"citizen post failed: {response_summary(r)}")
        return r.json()["data"]["id"]

    def user_id(self, username: str) -> str:
        # As a citizen: in strict mode a request without a sandbox token may be refused.
        r = self.http.get(f"{self.url}/2/users/by/username/{username}",
                          headers={"Authorization": "Bearer sandbox-user:rcprobe"})
        body = json_of(r) or {}
        if "data" not in body:
            raise CheckFailed(f"user lookup failed: {response_summary(r)}")
        return body["data"]["id"]

    def fault(self, method: str, path: str, status: int, times: int = 1) -> None:
        r = self.http.post(f"{self.url}/sandbox/x/faults",
                           json={"method": method, "path": path, "status": status, "times": times, "delay_ms": 0})
        if r.status_code != 200:
            raise CheckFailed(f"fault injection refused: {response_summary(r)}")

    def photos(self) -> list[dict]:
        """The pre-seeded sample photos (GET /sandbox/x/photos): numeric ids and 3_<digits> keys."""
        if self._photos is None:
            r = self.http.get(f"{self.url}/sandbox/x/photos")
            body = json_of(r)
            if r.status_code != 200 or body is None:
                raise CheckFailed(f"sample photos unavailable: {response_summary(r)}")
            items = body
            if isinstance(body, dict):
                items = body.get("data") or body.get("photos") or []
            self._photos = [p for p in items if isinstance(p, dict)]
        return self._photos


class Scenario:
    """Mentions a library section reads: posted by two citizens after a marker mention, so that
    `since_id=marker` selects exactly them whatever ran before."""

    def __init__(self, x: XSandbox, tag: str) -> None:
        self.x = x
        self.tag = tag
        self.a = f"{tag}a"  # usernames: at most 15 characters
        self.b = f"{tag}b"
        self.marker = ""
        self.t1 = ""  # citizen A's complaint (mentions the account)
        self.t2 = ""  # citizen B's reply to t1 (mentions the account and A)
        self.photo_mention = ""  # citizen A's mention with a sample photo, when photos exist
        self.photo_key = ""
        self.expected: list[str] = []  # newest last
        self.a_id = ""
        self.b_id = ""

    def build(self) -> None:
        h = self.x.handle
        self.marker = self.x.citizen_post(self.a, f"@{h} penanda {self.tag}")
        self.t1 = self.x.citizen_post(self.a, f"@{h} jalan berlubang di depan pasar besar {self.tag}")
        self.t2 = self.x.citizen_post(self.b, f"@{h} @{self.a} betul, makin parah tiap hujan {self.tag}",
                                      reply_to=self.t1)
        self.expected = [self.t1, self.t2]
        for i in range(5):
            who = self.a if i % 2 == 0 else self.b
            self.expected.append(self.x.citizen_post(who, f"@{h} lampu jalan mati nomor {i} {self.tag}"))
        self.a_id = self.x.user_id(self.a)
        self.b_id = self.x.user_id(self.b)

    def add_photo_mention(self) -> None:
        photos = self.x.photos()
        expect(len(photos) > 0, "GET /sandbox/x/photos listed no photo")
        photo = photos[0]
        self.photo_key = str(photo.get("media_key", ""))
        self.photo_mention = self.x.citizen_post(
            self.a, f"@{self.x.handle} foto genangan {self.tag}", media_ids=[str(photo.get("id"))])
        self.expected.append(self.photo_mention)


def x_common_section(report: Report, x: XSandbox) -> None:
    """Target behaviour that no client library reaches: the sandbox's own endpoints."""
    s = Section(report, "x")

    def photos() -> None:
        items = x.photos()
        problems = []
        if len(items) != 4:
            problems.append(f"expected 4 sample photos, got {len(items)}")
        for p in items:
            if not re.fullmatch(r"[0-9]{1,19}", str(p.get("id", ""))):
                problems.append(f"photo id {p.get('id')!r} is not numeric (X media ids are digits)")
            if not re.fullmatch(r"3_[0-9]{1,19}", str(p.get("media_key", ""))):
                problems.append(f"media_key {p.get('media_key')!r} is not 3_<digits>")
        expect_all(problems[:4])

    s.check("sample-photos", photos)

    def usage() -> None:
        r = x.http.get(f"{x.url}/sandbox/x/usage")
        body = json_of(r)
        expect(r.status_code == 200 and isinstance(body, dict) and body,
               f"GET /sandbox/x/usage should answer the pay-per-use counts as a JSON object: {response_summary(r)}")
        usage_shape_check(body)

    s.check("usage-counters", usage)


# X's pay-per-use prices (SANDBOX.md; USD per unit), as GET /sandbox/x/usage must list them.
X_PRICES = {"own_mentions_read": 0.001, "posts_read": 0.005, "users_read": 0.01,
            "posts_created": 0.015, "summoned_replies": 0.01, "posts_with_url": 0.2}


def usage_shape_check(body: dict) -> None:
    """The usage document: the price list, days (oldest first, UTC dates) with all six units and
    their dollars, and the totals, each sum right to six decimals."""
    problems = []
    if body.get("prices_usd") != X_PRICES:
        problems.append(f"prices_usd {body.get('prices_usd')!r}, expected {X_PRICES}")

    def priced(part: Any, what: str) -> None:
        units = part.get("units") if isinstance(part, dict) else None
        if not isinstance(units, dict) or set(units) != set(X_PRICES):
            problems.append(f"{what}.units {units!r} lacks some of {sorted(X_PRICES)}")
            return
        usd = round(sum(units[k] * X_PRICES[k] for k in X_PRICES), 6)
        if not isinstance(part.get("usd"), (int, float)) or abs(part["usd"] - usd) > 1e-9:
            problems.append(f"{what}.usd {part.get('usd')!r}, units give {usd}")

    days = body.get("days")
    if not isinstance(days, list):
        problems.append(f"days {days!r} is not a list")
        days = []
    dates = [d.get("date") for d in days if isinstance(d, dict)]
    if dates != sorted(dates) or not all(re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", str(d)) for d in dates):
        problems.append(f"days are not YYYY-MM-DD dates oldest first: {dates}")
    for day in days:
        priced(day, f"days[{day.get('date') if isinstance(day, dict) else '?'}]")
    priced(body.get("total"), "total")
    expect_all(problems[:4])


def x_usage_section(report: Report, x: XSandbox, before: dict | None) -> None:
    """After the libraries ran: the counters moved as X's price list says (SANDBOX.md)."""
    s = Section(report, "x")

    def read() -> dict:
        r = x.http.get(f"{x.url}/sandbox/x/usage")
        body = json_of(r)
        expect(r.status_code == 200 and isinstance(body, dict), f"GET /sandbox/x/usage: {response_summary(r)}")
        usage_shape_check(body)
        return body

    def counted() -> None:
        expect(before is not None, "no usage was read before the libraries ran")
        after = read()
        moved = {k: after["total"]["units"][k] - before["total"]["units"][k] for k in X_PRICES}
        # xdk and tweepy read the account's mentions, posts by id, users and timelines, post
        # plain posts and replies to citizens who mentioned the account.
        still = [k for k in ("own_mentions_read", "posts_read", "users_read", "posts_created", "summoned_replies")
                 if moved[k] <= 0]
        expect(not still, f"after xdk and tweepy ran these counters did not move: {still} (moved: {moved})")

    s.check("usage-counted-after-clients", counted)

    def with_url() -> None:
        from requests_oauthlib import OAuth1

        start = read()["total"]["units"]["posts_with_url"]
        auth = OAuth1(x.consumer_key, x.consumer_secret, x.access_token, x.access_secret)
        text = f"Info lengkap: https://malangkota.go.id/layanan {secrets.token_hex(3)}"
        r = x.http.post(f"{x.url}/2/tweets", json={"text": text}, auth=auth)
        expect(r.status_code == 201, f"the account's post with a URL: {response_summary(r)}")
        after = read()["total"]["units"]["posts_with_url"]
        expect(after == start + 1, f"posts_with_url went from {start} to {after}; expected one more")

    s.check("usage-post-with-url", with_url)


def problem_type_check(body: Any, what: str) -> None:
    """X's typed problems live under https://api.x.com/2/problems/ (spec v2.167)."""
    types = []
    if isinstance(body, dict):
        if "type" in body:
            types.append(body["type"])
        for e in body.get("errors", []) or []:
            if isinstance(e, dict) and "type" in e:
                types.append(e["type"])
    typed = [t for t in types if t != "about:blank"]
    expect(bool(typed), f"{what}: no typed problem in the body: {short(json.dumps(body), 300)}")
    wrong = [t for t in typed if not str(t).startswith("https://api.x.com/2/problems/")]
    if wrong:
        expect(False, f"{what}: problem type {wrong[0]!r}, expected https://api.x.com/2/problems/<slug>")


def bogus_field_check(r: requests.Response | None, parameter: str, value: str) -> None:
    """A 400 invalid-request naming the parameter and the value, as X answers."""
    expect(r is not None and r.status_code == 400,
           f"expected 400 for {parameter}={value}: {response_summary(r)}")
    body = json_of(r) or {}
    named = False
    for e in body.get("errors", []) or []:
        params = e.get("parameters", {}) if isinstance(e, dict) else {}
        if parameter in params and any(value in str(v) for v in params[parameter]):
            named = True
    expect(named, f"400 body does not name {parameter}=[{value}] in errors[].parameters: {short(r.text, 300)}")


# --- xdk (official X SDK, post vocabulary) -----------------------------------------------------


def xdk_section(report: Report, x: XSandbox, specs: Specs | None, strict: str) -> None:
    s = Section(report, "xdk")
    import xdk
    from xdk.media.models import AppendUploadRequest, CreateMetadataRequest, InitializeUploadRequest, UploadRequest
    from xdk.oauth1_auth import OAuth1
    from xdk.posts.models import CreateRequest

    recorder = Recorder()

    def client(**kwargs) -> "xdk.Client":
        c = xdk.Client(base_url=x.url, **kwargs)
        recorder.attach(c.session)
        return c

    oauth1 = OAuth1(api_key=x.consumer_key, api_secret=x.consumer_secret, callback="oob",
                    access_token=x.access_token, access_token_secret=x.access_secret)
    c = client(auth=oauth1)
    sc = Scenario(x, "xd" + secrets.token_hex(2))
    post_fields = ["created_at", "conversation_id", "author_id", "in_reply_to_user_id",
                   "referenced_posts", "entities", "attachments"]
    post_expansions = ["author_id", "referenced_posts", "attachments.media_keys"]

    def me() -> str:
        r = c.users.get_me(user_fields=["name", "username"])
        expect(r.data is not None, f"no data: {response_summary(recorder.last())}")
        expect(r.data.username == x.handle, f"username {r.data.username!r}, expected {x.handle!r}")
        return r.data.id

    account_id = s.check("oauth1.users-me", me)

    def display_name() -> None:
        s.need("oauth1.users-me")
        r = c.users.get_me(user_fields=["name"])
        expect(r.data.name == x.display_name,
               f"users/me name is {r.data.name!r}; the account's display name in bot.toml is {x.display_name!r} "
               f"(name must be the display name, username the handle)")

    s.check("display-name", display_name)

    s.check("setup-citizen-mentions", sc.build)

    def by_username() -> None:
        s.need("setup-citizen-mentions")
        r = c.users.get_by_username(sc.a, user_fields=["name", "username"])
        expect(r.data is not None and r.data.id == sc.a_id and r.data.username == sc.a,
               f"unexpected user: {response_summary(recorder.last())}")

    s.check("user-by-username", by_username)

    def create() -> str:
        r = c.posts.create(body=CreateRequest(text=f"Info layanan Dispendukcapil hari ini {sc.tag}"))
        expect(r.data is not None and re.fullmatch(r"[0-9]{1,19}", r.data.id or ""), f"no id: {response_summary(recorder.last())}")
        created = recorder.last("POST", r"^/2/tweets$")
        expect(created is not None and created.status_code == 201, f"expected 201: {response_summary(created)}")
        return r.data.id

    s.check("create-post", create)

    def reply() -> str:
        s.need("setup-citizen-mentions")
        r = c.posts.create(body=CreateRequest(text=f"@{sc.a} Terima kasih, laporan diteruskan ke DPUPRPKP {sc.tag}",
                                              reply={"in_reply_to_tweet_id": sc.t1}))
        expect(r.data is not None, f"no data: {response_summary(recorder.last())}")
        return r.data.id

    reply_id = s.check("create-reply", reply)

    def reply_fields() -> None:
        s.need("create-reply")
        r = c.posts.get_by_id(reply_id, post_fields=["referenced_posts", "in_reply_to_user_id", "conversation_id"])
        d = r.data
        problems = []
        if d.conversation_id != sc.t1:
            problems.append(f"conversation_id {d.conversation_id!r}, expected {sc.t1}")
        if d.in_reply_to_user_id != sc.a_id:
            problems.append(f"in_reply_to_user_id {d.in_reply_to_user_id!r}, expected {sc.a_id}")
        refs = d.referenced_posts or []
        if not any(ref.type == "replied_to" and ref.id == sc.t1 for ref in refs):
            extra = d.model_extra or {}
            problems.append(
                f"Post.referenced_posts is {refs!r} (the library's typed field is empty); the sandbox answered "
                f"keys {sorted(k for k in extra if 'referenced' in k or 'edit_history' in k)} to a post.fields "
                f"request: {short(json.dumps((json_of(recorder.last()) or {}).get('data')), 250)}")
        expect_all(problems)

    s.check("reply-fields-posts", reply_fields)

    png = tiny_png()

    def upload() -> tuple[str, str]:
        r = c.media.upload(body=UploadRequest(media=base64.b64encode(png).decode(), media_category="tweet_image"))
        d = r.data
        expect(d is not None and re.fullmatch(r"[0-9]{1,19}", d.id or ""), f"media id not numeric: {response_summary(recorder.last())}")
        expect(d.media_key == f"3_{d.id}", f"media_key {d.media_key!r}, expected 3_{d.id}")
        return d.id, d.media_key

    uploaded = s.check("media-upload", upload)

    def chunked() -> None:
        init = c.media.initialize_upload(body=InitializeUploadRequest(
            media_type="image/png", total_bytes=len(png), media_category="tweet_image"))
        expect(init.data is not None and init.data.id, f"initialize: {response_summary(recorder.last())}")
        c.media.append_upload(init.data.id, body=AppendUploadRequest(media=base64.b64encode(png).decode(), segment_index=0))
        fin = c.media.finalize_upload(init.data.id)
        expect(fin.data is not None and fin.data.id == init.data.id, f"finalize: {response_summary(recorder.last())}")

    s.check("media-upload-chunked", chunked)

    def metadata() -> None:
        s.need("media-upload")
        c.media.create_metadata(body=CreateMetadataRequest(
            id=uploaded[0], metadata={"alt_text": {"text": "Jalan berlubang di depan Pasar Besar"}}))

    s.check("media-metadata", metadata)

    def with_media() -> None:
        s.need("media-upload")
        r = c.posts.create(body=CreateRequest(text=f"Foto perbaikan jalan {sc.tag}", media={"media_ids": [uploaded[0]]}))
        got = c.posts.get_by_id(r.data.id, post_fields=["attachments"], expansions=["attachments.media_keys"],
                                media_fields=["url", "type", "alt_text"])
        keys = (got.data.attachments.media_keys if got.data.attachments else None) or []
        media = (got.includes.media if got.includes else None) or []
        expect(uploaded[1] in keys and any(m.media_key == uploaded[1] for m in media),
               f"the uploaded media is not in attachments/includes.media: {response_summary(recorder.last())}")

    s.check("create-post-with-media", with_media)

    s.check("setup-photo-mention", sc.add_photo_mention)

    def mentions_page(**kwargs):
        return next(iter(c.users.get_mentions(account_id, **kwargs)))

    def since() -> None:
        s.need("oauth1.users-me", "setup-citizen-mentions")
        page = mentions_page(since_id=sc.marker, max_results=100)
        ids = [p.id for p in page.data or []]
        expect(sorted(ids) == sorted(sc.expected) and sc.marker not in ids,
               f"since_id={sc.marker}: got {ids}, expected {list(reversed(sc.expected))}")
        expect(ids == sorted(ids, key=int, reverse=True), f"not newest first: {ids}")

    s.check("mentions-since-id", since)

    def pagination() -> None:
        s.need("oauth1.users-me", "setup-citizen-mentions")
        pages = list(c.users.get_mentions(account_id, since_id=sc.marker, max_results=5))
        sizes = [len(p.data or []) for p in pages]
        ids = [t.id for p in pages for t in p.data or []]
        expect(len(pages) >= 2 and sizes[0] == 5, f"pages of {sizes} for {len(sc.expected)} mentions at max_results=5")
        expect(len(ids) == len(set(ids)) and sorted(ids) == sorted(sc.expected),
               f"pages gave {ids}, expected {sorted(sc.expected)}")
        tokens = [r for r in recorder.responses if "pagination_token=" in (r.request.url or "")]
        expect(bool(tokens), "the library never sent pagination_token")

    s.check("pagination", pagination)

    def max_results() -> None:
        s.need("oauth1.users-me", "setup-citizen-mentions")
        page = mentions_page(since_id=sc.marker, max_results=5)
        expect(len(page.data or []) == 5 and page.meta.result_count == 5 and page.meta.next_token,
               f"max_results=5: {response_summary(recorder.last())}")
        try:
            mentions_page(since_id=sc.marker, max_results=4)
        except requests.HTTPError as e:
            bogus_field_check(e.response, "max_results", "4")
            return
        raise CheckFailed(f"max_results=4 accepted: {response_summary(recorder.last())}")

    s.check("max-results", max_results)

    def fetch_fields():
        page = mentions_page(since_id=sc.marker, max_results=100, post_fields=post_fields,
                             expansions=post_expansions, user_fields=["username", "name"], media_fields=["url", "type"])
        return page, {p.id: p for p in page.data or []}

    def fields() -> None:
        s.need("oauth1.users-me", "setup-citizen-mentions")
        page, by_id = fetch_fields()
        t2 = by_id.get(sc.t2)
        expect(t2 is not None, f"reply {sc.t2} not in mentions: {response_summary(recorder.last())}")
        problems = []
        for name, want in [("author_id", sc.b_id), ("conversation_id", sc.t1), ("in_reply_to_user_id", sc.a_id)]:
            if getattr(t2, name) != want:
                problems.append(f"Post.{name}={getattr(t2, name)!r}, expected {want}")
        if not t2.created_at:
            problems.append("Post.created_at empty")
        if not t2.edit_history_post_ids:
            problems.append("Post.edit_history_post_ids empty (the default field of the post vocabulary)")
        if not any(r.type == "replied_to" and r.id == sc.t1 for r in (t2.referenced_posts or [])):
            problems.append("Post.referenced_posts empty")
        mentions = (t2.entities.mentions if t2.entities else None) or []
        if not any(getattr(m, "username", None) == x.handle for m in mentions):
            problems.append(f"Post.entities.mentions lacks @{x.handle}")
        extra = sorted(k for k in (t2.model_extra or {}) if "tweet" in k)
        if extra:
            problems.append(f"post.fields request answered with tweet-vocabulary keys {extra}")
        expect_all(problems)

    s.check("fields-posts", fields)

    def expansions() -> None:
        s.need("oauth1.users-me", "setup-citizen-mentions")
        page, by_id = fetch_fields()
        inc = page.includes
        problems = []
        users = {u.username: u for u in (inc.users if inc and inc.users else [])}
        for who in (sc.a, sc.b):
            if who not in users or not users[who].name:
                problems.append(f"includes.users lacks {who} with a name")
        posts = [p.id for p in (inc.posts if inc and inc.posts else [])]
        if sc.t1 not in posts:
            extra = sorted((inc.model_extra or {}).keys()) if inc else []
            problems.append(f"includes.posts lacks the replied-to post {sc.t1} (includes keys: "
                            f"{sorted(k for k in (inc.model_dump(exclude_none=True) if inc else {}))}, extra {extra}; "
                            f"expansion sent: referenced_posts)")
        if sc.photo_mention:
            media = [m.media_key for m in (inc.media if inc and inc.media else [])]
            if sc.photo_key not in media:
                problems.append(f"includes.media lacks {sc.photo_key}")
        expect_all(problems)

    s.check("expansions-posts", expansions)

    def timeline() -> None:
        s.need("oauth1.users-me", "create-reply")
        page = next(iter(c.users.get_posts(account_id, max_results=5, post_fields=["referenced_posts", "created_at"])))
        ids = [p.id for p in page.data or []]
        expect(reply_id in ids, f"reply {reply_id} not in the account's timeline {ids}")
        mine = next(p for p in page.data if p.id == reply_id)
        expect(any(r.type == "replied_to" and r.id == sc.t1 for r in (mine.referenced_posts or [])),
               f"timeline Post.referenced_posts empty for the reply: {short(json.dumps((json_of(recorder.last()) or {}).get('data', [])[:1]), 300)}")

    s.check("user-timeline", timeline)

    def get_delete() -> None:
        r = c.posts.create(body=CreateRequest(text=f"Pengumuman sementara {sc.tag}"))
        pid = r.data.id
        got = c.posts.get_by_id(pid)
        expect(got.data is not None and got.data.id == pid and got.data.text.startswith("Pengumuman"),
               f"get: {response_summary(recorder.last())}")
        d = c.posts.delete(pid)
        expect(d.data is not None and d.data.deleted is True, f"delete: {response_summary(recorder.last())}")
        return pid

    deleted = s.check("get-and-delete-post", get_delete)

    def deleted_not_found() -> None:
        s.need("get-and-delete-post")
        r = c.posts.get_by_id(deleted)
        expect(r.data is None and r.errors, f"deleted post still readable: {response_summary(recorder.last())}")

    s.check("deleted-post-not-found", deleted_not_found)

    def duplicate() -> None:
        text = f"Layanan KTP buka pukul 08.00 {sc.tag}"
        c.posts.create(body=CreateRequest(text=text))
        try:
            c.posts.create(body=CreateRequest(text=text))
        except requests.HTTPError as e:
            expect(e.response.status_code == 403 and "duplicate" in e.response.text.lower(),
                   f"expected 403 duplicate: {response_summary(e.response)}")
            return
        raise CheckFailed("the same text twice was accepted")

    s.check("duplicate-post-403", duplicate)

    def rate_limited() -> None:
        s.need("oauth1.users-me")
        x.fault("GET", "/2/users/:id/mentions", 429)
        try:
            mentions_page(max_results=5)
        except requests.HTTPError as e:
            # xdk has no rate-limit handling of its own: it raises requests.HTTPError.
            r = e.response
            problems = []
            if r.status_code != 429:
                problems.append(f"status {r.status_code}")
            reset = r.headers.get("x-rate-limit-reset", "")
            if not reset.isdigit() or not 0 <= int(reset) - time.time() <= 900:
                problems.append(f"x-rate-limit-reset {reset!r} is not unix seconds in the window")
            state["remaining_on_429"] = r.headers.get("x-rate-limit-remaining")
            if "retry-after" in r.headers:
                problems.append("Retry-After present (X sends none)")
            expect_all(problems)
            page = mentions_page(max_results=5)  # the next call goes through
            expect(page.meta is not None, "the call after the 429 failed")
            return
        raise CheckFailed("the injected 429 did not reach the library")

    state: dict[str, Any] = {}
    s.check("rate-limit-429", rate_limited)

    def remaining_zero() -> None:
        s.need("rate-limit-429")
        expect(state.get("remaining_on_429") == "0",
               f"an injected 429 (POST /sandbox/x/faults) answers x-rate-limit-remaining "
               f"{state.get('remaining_on_429')!r}; X's 429 says 0, the window being used up")

    s.check("rate-limit-429-remaining-zero", remaining_zero)

    def invalid_field() -> None:
        s.need("oauth1.users-me")
        try:
            mentions_page(max_results=5, post_fields=["created_at", "bogus_field"])
        except requests.HTTPError as e:
            bogus_field_check(e.response, "post.fields", "bogus_field")
            return
        raise CheckFailed(f"post.fields=created_at,bogus_field accepted: {response_summary(recorder.last())}")

    s.check("invalid-field-400", invalid_field)

    def problem_invalid() -> None:
        s.need("oauth1.users-me")
        try:
            mentions_page(max_results=1000)
        except requests.HTTPError as e:
            expect(e.response.status_code == 400, response_summary(e.response))
            problem_type_check(json_of(e.response), "400 invalid-request")
            return
        raise CheckFailed("max_results=1000 accepted")

    s.check("problem-type-invalid-request", problem_invalid)

    def not_found() -> None:
        r = c.users.get_by_username(f"nobody{sc.tag}")
        raw = recorder.last("GET", r"/2/users/by/username/")
        expect(r.data is None and r.errors, f"expected 200 with errors[]: {response_summary(raw)}")

    s.check("user-not-found-errors", not_found)

    # OAuth 2.0 user context: xdk's own PKCE flow against the sandbox's authorize/token endpoints.
    o2 = client(client_id=x.client_id, client_secret=x.client_secret, redirect_uri=x.redirect_uri,
                scope=["tweet.read", "tweet.write", "users.read", "offline.access", "media.write"],
                authorization_base_url=f"{x.url}/i")

    def authorize() -> None:
        state = secrets.token_urlsafe(16)
        url = o2.get_authorization_url(state=state)
        # The browser step: the sandbox's consent page approves at once and redirects.
        r = x.http.get(url, allow_redirects=False)
        expect(r.status_code in (302, 303) and "location" in r.headers, f"authorize: {response_summary(r)}")
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.headers["location"]).query))
        expect(query.get("state") == state and query.get("code"), f"redirect {r.headers['location']!r}")
        token = o2.exchange_code(query["code"])
        expect(token.get("access_token") and token.get("refresh_token"), f"token {token!r}")

    s.check("oauth2.authorize-pkce", authorize)

    def o2_me() -> None:
        s.need("oauth2.authorize-pkce")
        r = o2.users.get_me()
        expect(r.data is not None and r.data.username == x.handle, f"{response_summary(recorder.last())}")

    s.check("oauth2.users-me", o2_me)

    def o2_post() -> None:
        s.need("oauth2.authorize-pkce")
        r = o2.posts.create(body=CreateRequest(text=f"Dikirim dengan token OAuth 2.0 {sc.tag}"))
        d = o2.posts.delete(r.data.id)
        expect(d.data.deleted is True, f"{response_summary(recorder.last())}")

    s.check("oauth2.create-and-delete-post", o2_post)

    def o2_mentions() -> None:
        s.need("oauth2.authorize-pkce", "oauth1.users-me", "setup-citizen-mentions")
        page = next(iter(o2.users.get_mentions(account_id, since_id=sc.marker, max_results=5)))
        expect(len(page.data or []) == 5, f"{response_summary(recorder.last())}")

    s.check("oauth2.mentions", o2_mentions)

    def o2_refresh() -> None:
        s.need("oauth2.authorize-pkce")
        old = o2.access_token
        o2.refresh_token()
        expect(o2.access_token and o2.access_token != old, "refresh gave no new access token")
        r = o2.users.get_me()
        expect(r.data.username == x.handle, f"{response_summary(recorder.last())}")

    s.check("oauth2.refresh", o2_refresh)

    def strict_bearer() -> None:
        app = client(bearer_token="AAAAAAAAAAAAAAAAAAAAA-not-a-sandbox-token")
        try:
            app.users.get_by_username(x.handle)
        except requests.HTTPError as e:
            expect(e.response.status_code == 401, response_summary(e.response))
            return
        note = {"refused": "the sandbox refused `[sandbox] strict = true` at start-up, so it ran without it",
                "off": "strict mode was not requested"}.get(strict, "strict mode was on")
        raise CheckFailed(f"an unknown bearer token was served as app-only ({note}): "
                          f"{response_summary(recorder.last())}; expected X's 401 in strict mode")

    s.check("strict-unknown-bearer-401", strict_bearer)

    rate_limit_header_check(s, recorder)
    schema_checks(s, specs, recorder, "v2.167")


# --- tweepy (tweet vocabulary) -----------------------------------------------------------------


class SandboxRewrite:
    """Mixin for requests.Session: sends tweepy's hard-coded X hosts to the sandbox.

    The rewrite happens in Session.request, before requests prepares the request and applies
    the OAuth 1.0a auth, so the signature is computed over the sandbox URL that is actually
    sent (the sandbox verifies it). Nothing is mocked: every request reaches the sandbox."""

    HOSTS = ("https://api.twitter.com", "https://api.x.com", "https://upload.twitter.com",
             "https://twitter.com", "https://x.com")

    sandbox_url = ""

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        for host in self.HOSTS:
            if url.startswith(host + "/"):
                url = self.sandbox_url + url[len(host):]
                break
        return super().request(method, url, *args, **kwargs)


def tweepy_section(report: Report, x: XSandbox, specs: Specs | None) -> None:
    s = Section(report, "tweepy")
    import tweepy

    recorder = Recorder()

    class SandboxSession(SandboxRewrite, requests.Session):
        sandbox_url = x.url

    class SandboxOAuth2UserHandler(SandboxRewrite, tweepy.OAuth2UserHandler):
        sandbox_url = x.url

    def client(**kwargs) -> "tweepy.Client":
        c = tweepy.Client(**kwargs)
        c.session = SandboxSession()
        recorder.attach(c.session)
        return c

    creds = dict(consumer_key=x.consumer_key, consumer_secret=x.consumer_secret,
                 access_token=x.access_token, access_token_secret=x.access_secret)
    c = client(**creds)
    waiting = client(**creds, wait_on_rate_limit=True)
    sc = Scenario(x, "tp" + secrets.token_hex(2))
    tweet_fields = ["created_at", "conversation_id", "author_id", "in_reply_to_user_id",
                    "referenced_tweets", "entities", "attachments"]
    expansions_list = ["author_id", "referenced_tweets.id", "attachments.media_keys"]

    def me() -> str:
        r = c.get_me(user_fields=["name", "username"])
        expect(r.data is not None and r.data.username == x.handle, f"{response_summary(recorder.last())}")
        return str(r.data.id)

    account_id = s.check("oauth1.users-me", me)

    def display_name() -> None:
        s.need("oauth1.users-me")
        r = c.get_me(user_fields=["name"])
        expect(r.data.name == x.display_name,
               f"users/me name is {r.data.name!r}; the account's display name in bot.toml is {x.display_name!r}")

    s.check("display-name", display_name)
    s.check("setup-citizen-mentions", sc.build)

    def by_username() -> None:
        s.need("setup-citizen-mentions")
        r = c.get_user(username=sc.b, user_fields=["name", "username"], user_auth=True)
        expect(r.data is not None and str(r.data.id) == sc.b_id, f"{response_summary(recorder.last())}")

    s.check("user-by-username", by_username)

    def create() -> None:
        r = c.create_tweet(text=f"Info layanan Disdikbud hari ini {sc.tag}")
        expect(re.fullmatch(r"[0-9]{1,19}", str(r.data.get("id", ""))), f"{response_summary(recorder.last())}")

    s.check("create-post", create)

    def reply() -> str:
        s.need("setup-citizen-mentions")
        r = c.create_tweet(text=f"@{sc.a} Terima kasih, laporan kami teruskan {sc.tag}", in_reply_to_tweet_id=sc.t1)
        return str(r.data["id"])

    reply_id = s.check("create-reply", reply)

    def reply_fields() -> None:
        s.need("create-reply")
        r = c.get_tweet(reply_id, tweet_fields=["referenced_tweets", "in_reply_to_user_id", "conversation_id"],
                        user_auth=True)
        t = r.data
        problems = []
        if t.conversation_id != int(sc.t1):
            problems.append(f"conversation_id {t.conversation_id}, expected {sc.t1}")
        if t.in_reply_to_user_id != int(sc.a_id):
            problems.append(f"in_reply_to_user_id {t.in_reply_to_user_id}, expected {sc.a_id}")
        if not any(ref.type == "replied_to" and ref.id == int(sc.t1) for ref in t.referenced_tweets or []):
            problems.append(f"referenced_tweets {t.referenced_tweets}")
        expect_all(problems)

    s.check("reply-fields-tweets", reply_fields)

    png = tiny_png()

    def upload() -> tuple[str, str]:
        # tweepy 4.17 uploads only through v1.1 (upload.twitter.com/1.1/media/upload.json), which
        # the sandbox does not serve (it follows v2). So the v2 upload is signed with tweepy's
        # own OAuth 1.0a handler; the post that uses the media then goes through tweepy.Client.
        auth = tweepy.OAuth1UserHandler(x.consumer_key, x.consumer_secret, x.access_token, x.access_secret)
        session = SandboxSession()
        recorder.attach(session)
        r = session.post("https://api.x.com/2/media/upload", auth=auth.apply_auth(),
                         files={"media": ("photo.png", png, "image/png")}, data={"media_category": "tweet_image"})
        body = json_of(r) or {}
        d = body.get("data") or {}
        expect(r.status_code == 200 and re.fullmatch(r"[0-9]{1,19}", str(d.get("id", ""))),
               f"v2 upload (multipart): {response_summary(r)}")
        expect(d.get("media_key") == f"3_{d['id']}", f"media_key {d.get('media_key')!r}")
        return d["id"], d["media_key"]

    uploaded = s.check("media-upload-v2", upload)

    def with_media() -> None:
        s.need("media-upload-v2")
        r = c.create_tweet(text=f"Foto perbaikan lampu {sc.tag}", media_ids=[uploaded[0]])
        got = c.get_tweet(r.data["id"], tweet_fields=["attachments"], expansions=["attachments.media_keys"],
                          media_fields=["url", "type"], user_auth=True)
        media = got.includes.get("media", [])
        expect(any(m.media_key == uploaded[1] and m.type == "photo" for m in media),
               f"includes.media lacks the upload: {response_summary(recorder.last())}")

    s.check("create-post-with-media", with_media)
    s.check("setup-photo-mention", sc.add_photo_mention)

    def since() -> None:
        s.need("oauth1.users-me", "setup-citizen-mentions")
        r = c.get_users_mentions(account_id, since_id=sc.marker, max_results=100, user_auth=True)
        ids = [str(t.id) for t in r.data or []]
        expect(sorted(ids) == sorted(sc.expected), f"since_id={sc.marker}: got {ids}, expected {list(reversed(sc.expected))}")
        expect(r.meta.get("newest_id") == ids[0] and r.meta.get("oldest_id") == ids[-1] and r.meta.get("result_count") == len(ids),
               f"meta {r.meta}")

    s.check("mentions-since-id", since)

    def pagination() -> None:
        s.need("oauth1.users-me", "setup-citizen-mentions")
        pages = list(tweepy.Paginator(c.get_users_mentions, account_id, since_id=sc.marker, max_results=5, user_auth=True))
        sizes = [len(p.data or []) for p in pages]
        ids = [str(t.id) for p in pages for t in p.data or []]
        expect(len(pages) >= 2 and sizes[0] == 5 and "next_token" in pages[0].meta,
               f"pages of {sizes}, first meta {pages[0].meta if pages else None}")
        expect(sorted(ids) == sorted(sc.expected) and len(ids) == len(set(ids)), f"pages gave {ids}")
        expect("next_token" not in pages[-1].meta, f"last page still has next_token: {pages[-1].meta}")

    s.check("pagination", pagination)

    def max_results() -> None:
        s.need("oauth1.users-me", "setup-citizen-mentions")
        r = c.get_users_mentions(account_id, since_id=sc.marker, max_results=5, user_auth=True)
        expect(len(r.data) == 5 and r.meta.get("result_count") == 5, f"{response_summary(recorder.last())}")
        try:
            c.get_users_mentions(account_id, max_results=101, user_auth=True)
        except tweepy.BadRequest as e:
            bogus_field_check(e.response, "max_results", "101")
            return
        raise CheckFailed("max_results=101 accepted")

    s.check("max-results", max_results)

    def fetch_fields():
        r = c.get_users_mentions(account_id, since_id=sc.marker, max_results=100, tweet_fields=tweet_fields,
                                 expansions=expansions_list, user_fields=["username", "name"],
                                 media_fields=["url", "type"], user_auth=True)
        return r, {str(t.id): t for t in r.data or []}

    def fields() -> None:
        s.need("oauth1.users-me", "setup-citizen-mentions")
        r, by_id = fetch_fields()
        t2 = by_id.get(sc.t2)
        expect(t2 is not None, f"reply {sc.t2} not in mentions")
        problems = []
        if not isinstance(t2.created_at, dtm.datetime):
            problems.append(f"created_at {t2.created_at!r}")
        if t2.author_id != int(sc.b_id):
            problems.append(f"author_id {t2.author_id}")
        if t2.conversation_id != int(sc.t1):
            problems.append(f"conversation_id {t2.conversation_id}")
        if t2.in_reply_to_user_id != int(sc.a_id):
            problems.append(f"in_reply_to_user_id {t2.in_reply_to_user_id}")
        if not any(ref.type == "replied_to" and ref.id == int(sc.t1) for ref in t2.referenced_tweets or []):
            problems.append(f"referenced_tweets {t2.referenced_tweets}")
        if not getattr(t2, "edit_history_tweet_ids", None):
            problems.append("edit_history_tweet_ids missing")
        mentions = (t2.entities or {}).get("mentions", [])
        m = next((m for m in mentions if m.get("username") == x.handle), None)
        if m is None or t2.text[m["start"]:m["end"]] != f"@{x.handle}":
            problems.append(f"entities.mentions {mentions}")
        if sc.photo_mention:
            tp = by_id.get(sc.photo_mention)
            if tp is None or sc.photo_key not in ((tp.attachments or {}).get("media_keys") or []):
                problems.append(f"attachments.media_keys of the photo mention: {tp.attachments if tp else None}")
        expect_all(problems)

    s.check("fields-tweets", fields)

    def expansions() -> None:
        s.need("oauth1.users-me", "setup-citizen-mentions")
        r, _ = fetch_fields()
        problems = []
        users = {u.username: u for u in r.includes.get("users", [])}
        for who in (sc.a, sc.b):
            if who not in users or not users[who].name:
                problems.append(f"includes.users lacks {who}")
        if not any(str(t.id) == sc.t1 for t in r.includes.get("tweets", [])):
            problems.append(f"includes.tweets lacks {sc.t1}")
        if sc.photo_mention and not any(m.media_key == sc.photo_key and m.url for m in r.includes.get("media", [])):
            problems.append(f"includes.media lacks {sc.photo_key} with a url")
        expect_all(problems)

    s.check("expansions-tweets", expansions)

    def timeline() -> None:
        s.need("oauth1.users-me", "create-reply")
        r = c.get_users_tweets(account_id, max_results=5, tweet_fields=["referenced_tweets", "created_at"], user_auth=True)
        mine = next((t for t in r.data or [] if str(t.id) == reply_id), None)
        expect(mine is not None, f"reply not in timeline: {response_summary(recorder.last())}")
        expect(any(ref.type == "replied_to" and ref.id == int(sc.t1) for ref in mine.referenced_tweets or []),
               f"referenced_tweets {mine.referenced_tweets}")

    s.check("user-timeline", timeline)

    def get_delete() -> str:
        r = c.create_tweet(text=f"Pengumuman sementara {sc.tag}")
        pid = r.data["id"]
        got = c.get_tweet(pid, user_auth=True)
        expect(got.data is not None and str(got.data.id) == pid, f"{response_summary(recorder.last())}")
        d = c.delete_tweet(pid)
        expect(d.data == {"deleted": True}, f"{response_summary(recorder.last())}")
        return pid

    deleted = s.check("get-and-delete-post", get_delete)

    def deleted_not_found() -> None:
        s.need("get-and-delete-post")
        r = c.get_tweet(deleted, user_auth=True)
        expect(r.data is None and r.errors, f"{response_summary(recorder.last())}")
        problem_type_check({"errors": r.errors}, "deleted post")

    s.check("deleted-post-not-found", deleted_not_found)

    def duplicate() -> None:
        text = f"Layanan KK buka pukul 08.00 {sc.tag}"
        c.create_tweet(text=text)
        try:
            c.create_tweet(text=text)
        except tweepy.Forbidden as e:
            expect(any("duplicate" in m.lower() for m in e.api_messages), f"messages {e.api_messages}")
            return
        raise CheckFailed("the same text twice was accepted")

    s.check("duplicate-post-403", duplicate)

    def rate_limited() -> None:
        s.need("oauth1.users-me")
        x.fault("GET", "/2/users/:id/mentions", 429)
        try:
            c.get_users_mentions(account_id, max_results=5, user_auth=True)
        except tweepy.TooManyRequests as e:
            expect(e.reset_time is not None and e.reset_time >= int(time.time()) - 1,
                   f"TooManyRequests.reset_time {e.reset_time!r} (from x-rate-limit-reset)")
            expect("retry-after" not in e.response.headers, "Retry-After present (X sends none)")
            return
        raise CheckFailed("the injected 429 did not raise TooManyRequests")

    s.check("rate-limit-429-raised", rate_limited)

    class SleepLog(logging.Handler):
        def __init__(self) -> None:
            super().__init__()
            self.messages: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.messages.append(record.getMessage())

    sleep_log = SleepLog()
    tweepy_log = logging.getLogger("tweepy")
    tweepy_log.addHandler(sleep_log)
    tweepy_log.propagate = False

    def rate_limit_wait() -> None:
        s.need("oauth1.users-me")
        x.fault("GET", "/2/users/:id/mentions", 429)
        start = time.monotonic()
        sleep_log.messages.clear()
        # tweepy sleeps until x-rate-limit-reset: run it aside, so a reset far ahead fails this
        # check instead of stalling the run.
        result: dict[str, Any] = {}

        def call() -> None:
            try:
                result["r"] = waiting.get_users_mentions(account_id, max_results=5, user_auth=True)
            except Exception as e:
                result["e"] = e

        worker = threading.Thread(target=call, daemon=True)
        worker.start()
        worker.join(25)
        if worker.is_alive():
            raise CheckFailed(f"tweepy still sleeping after 25 s: {sleep_log.messages} "
                              f"(an injected 429's x-rate-limit-reset should be a few seconds ahead)")
        if "e" in result:
            raise result["e"]
        r = result["r"]
        waited = time.monotonic() - start
        expect(r.meta is not None, "no answer after waiting")
        expect(any("Rate limit exceeded" in m for m in sleep_log.messages),
               f"tweepy did not go through its wait_on_rate_limit path (log: {sleep_log.messages})")
        expect(waited >= 0.5 and waited <= 30, f"tweepy waited {waited:.1f}s (x-rate-limit-reset should be a few seconds ahead)")

    s.check("rate-limit-429-wait-on-rate-limit", rate_limit_wait)

    def invalid_field() -> None:
        s.need("oauth1.users-me")
        try:
            c.get_users_mentions(account_id, max_results=5, tweet_fields=["created_at", "bogus_field"], user_auth=True)
        except tweepy.BadRequest as e:
            bogus_field_check(e.response, "tweet.fields", "bogus_field")
            return
        raise CheckFailed(f"tweet.fields=created_at,bogus_field accepted: {response_summary(recorder.last())}")

    s.check("invalid-field-400", invalid_field)

    def invalid_expansion() -> None:
        s.need("oauth1.users-me")
        try:
            c.get_users_mentions(account_id, max_results=5, expansions=["author_id", "bogus.expansion"], user_auth=True)
        except tweepy.BadRequest as e:
            bogus_field_check(e.response, "expansions", "bogus.expansion")
            return
        raise CheckFailed(f"expansions=author_id,bogus.expansion accepted: {response_summary(recorder.last())}")

    s.check("invalid-expansion-400", invalid_expansion)

    def problem_invalid() -> None:
        s.need("oauth1.users-me")
        try:
            c.get_users_mentions(account_id, since_id="not-a-number", user_auth=True)
        except tweepy.BadRequest as e:
            problem_type_check(json_of(e.response), "400 invalid-request")
            return
        raise CheckFailed("since_id=not-a-number accepted")

    s.check("problem-type-invalid-request", problem_invalid)

    def not_found() -> None:
        r = c.get_user(username=f"nobody{sc.tag}", user_auth=True)
        raw = recorder.last("GET", r"/2/users/by/username/")
        expect(r.data is None and r.errors, f"{response_summary(raw)}")
        problem_type_check({"errors": r.errors}, "200 errors[]")

    s.check("user-not-found-errors", not_found)

    def errors_content_type() -> None:
        raw = recorder.last("GET", r"/2/users/by/username/nobody")
        expect(raw is not None, "no not-found lookup was recorded")
        expect(raw.status_code == 200 and raw.headers.get("content-type", "").startswith("application/json"),
               f"a 200 that carries errors[] must be application/json: {response_summary(raw)}")

    s.check("errors-200-content-type", errors_content_type)

    # OAuth 2.0 user context: tweepy's OAuth2UserHandler (an OAuth2Session) with the host shim.
    handler = SandboxOAuth2UserHandler(client_id=x.client_id, client_secret=x.client_secret,
                                       redirect_uri=x.redirect_uri,
                                       scope=["tweet.read", "tweet.write", "users.read", "offline.access"])
    recorder.attach(handler)

    def authorize() -> str:
        url = handler.get_authorization_url()
        expect(url.startswith("https://twitter.com/i/oauth2/authorize?"), f"authorize URL {url!r}")
        # The browser step: open tweepy's authorize URL on the sandbox (same path and query).
        r = x.http.get(x.url + url[len("https://twitter.com"):], allow_redirects=False)
        expect(r.status_code in (302, 303), f"authorize: {response_summary(r)}")
        token = handler.fetch_token(r.headers["location"])
        expect(token.get("access_token") and token.get("refresh_token"), f"token {token!r}")
        return token["access_token"]

    access = s.check("oauth2.authorize-pkce", authorize)

    def o2_client():
        s.need("oauth2.authorize-pkce")
        return client(bearer_token=access)

    def o2_me() -> None:
        r = o2_client().get_me(user_auth=False)
        expect(r.data.username == x.handle, f"{response_summary(recorder.last())}")

    s.check("oauth2.users-me", o2_me)

    def o2_post() -> None:
        o2 = o2_client()
        r = o2.create_tweet(text=f"Dikirim dengan OAuth 2.0 {sc.tag}", user_auth=False)
        d = o2.delete_tweet(r.data["id"], user_auth=False)
        expect(d.data == {"deleted": True}, f"{response_summary(recorder.last())}")

    s.check("oauth2.create-and-delete-post", o2_post)

    def o2_mentions() -> None:
        s.need("oauth1.users-me", "setup-citizen-mentions")
        r = o2_client().get_users_mentions(account_id, since_id=sc.marker, max_results=5, user_auth=False)
        expect(len(r.data or []) == 5, f"{response_summary(recorder.last())}")

    s.check("oauth2.mentions", o2_mentions)

    rate_limit_header_check(s, recorder)
    schema_checks(s, specs, recorder, "v2.159")


# --- python-telegram-bot -----------------------------------------------------------------------


def telegram_section(report: Report, cfg: dict) -> None:
    s = Section(report, "telegram")
    import telegram
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup
    from telegram.error import BadRequest, RetryAfter

    sb = cfg["sandbox"]
    token = sb["telegram_token"]
    control = sb["x_url"].rstrip("/") + "/sandbox/telegram"
    http = requests.Session()
    http.mount("http://", TimeoutAdapter())
    base = sb["telegram_url"].rstrip("/") + "/bot"
    run = secrets.randbelow(10_000_000)
    chat = 800_000_000 + run  # a private chat (positive id) that is new on every run
    flood_chat = chat + 1
    person = {"id": chat, "username": "warga_tg", "first_name": "Warga"}

    def control_post(path: str, body: dict) -> dict:
        r = http.post(f"{control}/{path}", json=body)
        if r.status_code != 200:
            raise CheckFailed(f"control {path}: {response_summary(r)}")
        return r.json()

    async def main() -> None:
        bot = telegram.Bot(token, base_url=base)

        async def acheck(name: str, coro_fn) -> Any:
            full = f"telegram.{name}"
            try:
                value = await coro_fn()
            except Blocked as e:
                s.ok[name] = False
                report.line(full, False, f"blocked: {e}")
                return None
            except CheckFailed as e:
                s.ok[name] = False
                report.line(full, False, str(e))
                return None
            except Exception as e:
                s.ok[name] = False
                report.line(full, False, describe_exception(e))
                return None
            s.ok[name] = True
            report.line(full, True)
            return value

        async def get_me():
            await bot.initialize()  # PTB calls getMe here
            me = await bot.get_me()
            expect(me.is_bot and me.username and me.id == int(token.split(":")[0]), f"getMe {me.to_dict()}")

        await acheck("get-me", get_me)

        state: dict[str, Any] = {}

        async def drain() -> int:
            updates = await bot.get_updates(timeout=0)
            offset = (updates[-1].update_id + 1) if updates else 0
            if offset:
                await bot.get_updates(offset=offset, timeout=0)
            return offset

        async def updates_offset():
            offset = await drain()
            sent = control_post("send", {"chat_id": chat, "from": person, "text": "/start halo"})
            updates = await bot.get_updates(offset=offset or None, timeout=5)
            mine = [u for u in updates if u.message and u.message.chat.id == chat]
            expect(len(mine) == 1, f"expected the person's message, got {[u.to_dict() for u in updates]}")
            u = mine[0]
            expect(u.update_id == sent.get("update_id") and u.message.text == "/start halo"
                   and u.message.from_user.username == "warga_tg" and u.message.chat.type == "private",
                   f"update {u.to_dict()}")
            again = await bot.get_updates(offset=u.update_id + 1, timeout=0)
            expect(not any(x.update_id <= u.update_id for x in again), "a confirmed update came back")
            state["offset"] = u.update_id + 1

        await acheck("get-updates-offset", updates_offset)

        async def long_poll():
            s.need("get-updates-offset")
            start = time.monotonic()
            updates = await bot.get_updates(offset=state["offset"], timeout=2)
            waited = time.monotonic() - start
            expect(updates == () or updates == [], f"unexpected updates {updates}")
            expect(1.5 <= waited <= 6, f"getUpdates timeout=2 returned after {waited:.1f}s (a long poll holds until timeout)")

        await acheck("get-updates-long-poll", long_poll)

        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Terima", callback_data="t:1:acc"),
                                          InlineKeyboardButton("Tolak", callback_data="t:1:rej")]])

        async def send_keyboard():
            s.need("get-updates-offset")
            m = await bot.send_message(chat, "Tiket <b>#1</b>: jalan berlubang", parse_mode="HTML", reply_markup=keyboard)
            expect(m.reply_markup is not None and m.reply_markup.inline_keyboard[0][0].callback_data == "t:1:acc",
                   f"reply_markup {m.reply_markup}")
            expect(m.text == "Tiket #1: jalan berlubang" and any(e.type == "bold" for e in m.entities),
                   f"text/entities {m.text!r} {m.entities}")
            state["message_id"] = m.message_id

        await acheck("send-message-inline-keyboard", send_keyboard)

        async def edit_text():
            s.need("send-message-inline-keyboard")
            m = await bot.edit_message_text("Tiket #1: jalan berlubang (diterima DPUPRPKP)", chat_id=chat,
                                            message_id=state["message_id"], reply_markup=keyboard)
            expect(isinstance(m, telegram.Message) and m.text.endswith("(diterima DPUPRPKP)") and m.edit_date,
                   f"edited {m}")
            listed = http.get(f"{control}/messages", params={"chat_id": chat}).json()
            expect(any(x["message_id"] == state["message_id"] and x["edited"] for x in listed), f"control listing {listed}")

        await acheck("edit-message-text", edit_text)

        new_keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Selesai", callback_data="t:1:done")]])

        async def edit_markup():
            s.need("send-message-inline-keyboard")
            m = await bot.edit_message_reply_markup(chat_id=chat, message_id=state["message_id"], reply_markup=new_keyboard)
            expect(isinstance(m, telegram.Message) and m.reply_markup.inline_keyboard[0][0].callback_data == "t:1:done",
                   f"edited {m}")

        await acheck("edit-message-reply-markup", edit_markup)

        async def callback():
            s.need("edit-message-reply-markup")
            control_post("press", {"chat_id": chat, "message_id": state["message_id"], "from": person, "data": "t:1:done"})
            updates = await bot.get_updates(offset=state["offset"], timeout=5)
            cq = next((u.callback_query for u in updates if u.callback_query), None)
            expect(cq is not None and cq.data == "t:1:done" and cq.message.message_id == state["message_id"]
                   and cq.from_user.id == chat and cq.chat_instance, f"updates {[u.to_dict() for u in updates]}")
            state["offset"] = updates[-1].update_id + 1
            ok = await bot.answer_callback_query(cq.id, text="Tercatat")
            expect(ok is True, f"answerCallbackQuery answered {ok!r}")

        await acheck("callback-query-and-answer", callback)

        async def chat_not_found():
            try:
                await bot.send_message(chat + 5_000_000, "halo")
            except BadRequest as e:
                expect("chat not found" in e.message.lower(), f"message {e.message!r}")
                return
            raise CheckFailed("sending to an unknown private chat succeeded")

        await acheck("error-chat-not-found", chat_not_found)

        async def bad_html():
            s.need("get-updates-offset")
            try:
                await bot.send_message(chat, "<b>tidak ditutup", parse_mode="HTML")
            except BadRequest as e:
                expect("can't parse entities" in e.message.lower(), f"message {e.message!r}")
                return
            raise CheckFailed("unclosed HTML accepted")

        await acheck("error-bad-html", bad_html)

        async def flood():
            control_post("send", {"chat_id": flood_chat, "from": {"id": flood_chat, "username": "warga_flood"}, "text": "halo"})
            for i in range(8):
                try:
                    await bot.send_message(flood_chat, f"pesan {i}")
                except RetryAfter as e:
                    seconds = e.retry_after.total_seconds() if isinstance(e.retry_after, dtm.timedelta) else e.retry_after
                    expect(i >= 1 and 1 <= seconds <= 60, f"RetryAfter after {i} messages, retry_after={seconds}")
                    return
            raise CheckFailed("8 messages in a row to one chat were all accepted (Telegram: about 1 per second)")

        await acheck("flood-wait-retry-after", flood)

        async def injected_flood():
            s.need("get-updates-offset")
            control_post("faults", {"method": "sendMessage", "status": 429, "retry_after": 7})
            try:
                await bot.send_message(chat, "halo lagi")
            except RetryAfter as e:
                seconds = e.retry_after.total_seconds() if isinstance(e.retry_after, dtm.timedelta) else e.retry_after
                expect(seconds == 7, f"retry_after {seconds}, injected 7")
                return
            raise CheckFailed("the injected 429 did not raise RetryAfter")

        await acheck("injected-429-retry-after", injected_flood)

        try:
            await bot.shutdown()
        except Exception:
            pass

    asyncio.run(main())


# --- pywa ----------------------------------------------------------------------------------------


class WebhookReceiver:
    """A tiny local HTTP server the sandbox posts WhatsApp webhooks to; pywa's own custom-server
    entry points verify (`webhook_update_validator`, `webhook_challenge_handler`) and parse
    (`webhook_update_handler`) what arrives."""

    def __init__(self, wa) -> None:
        self.wa = wa
        self.deliveries: list[dict] = []
        self.typed: list[tuple[str, Any]] = []
        self.lock = threading.Lock()
        self.local = threading.local()
        receiver = self

        class LogCapture(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                current = getattr(receiver.local, "delivery", None)
                if current is not None and record.levelno >= logging.ERROR:
                    text = record.getMessage()
                    if record.exc_info and record.exc_info[1] is not None:
                        exc = record.exc_info[1]
                        tb = traceback.extract_tb(record.exc_info[2])
                        where = f" at {Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
                        text += f": {type(exc).__name__}{where}: {exc}"
                    current["errors"].append(text)

        pywa_log = logging.getLogger("pywa")
        pywa_log.addHandler(LogCapture())
        pywa_log.setLevel(logging.INFO)
        pywa_log.propagate = False

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def reply(self, status: int, text: str) -> None:
                data = (text or "").encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                text, status = receiver.wa.webhook_challenge_handler(q.get("hub.verify_token"), q.get("hub.challenge"))
                self.reply(status, text)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                signature = self.headers.get("X-Hub-Signature-256")
                delivery = {"body": body, "signature": signature, "valid": False, "errors": [], "typed": []}
                receiver.local.delivery = delivery
                try:
                    rejected = receiver.wa.webhook_update_validator(body, signature)
                    if rejected:
                        delivery["errors"].append(f"pywa rejected the signature: {rejected}")
                        self.reply(rejected[1], rejected[0])
                        return
                    delivery["valid"] = True
                    text, status = receiver.wa.webhook_update_handler(body)
                    self.reply(status, text)
                except Exception as e:
                    delivery["errors"].append(describe_exception(e))
                    self.reply(200, "ok")  # recorded; no retries wanted
                finally:
                    receiver.local.delivery = None
                    try:
                        delivery["json"] = json.loads(body)
                    except ValueError:
                        delivery["json"] = None
                    with receiver.lock:
                        receiver.deliveries.append(delivery)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/whatsapp"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def on_update(self, kind: str):
        def callback(_wa, update) -> None:
            current = getattr(self.local, "delivery", None)
            if current is not None:
                current["typed"].append((kind, update))

        return callback

    def wait(self, match: Callable[[dict], bool], seconds: float = 6.0) -> dict | None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                for d in self.deliveries:
                    if d.get("json") is not None and match(d["json"]):
                        return d
            time.sleep(0.05)
        return None

    def close(self) -> None:
        self.server.shutdown()


def wa_value(body: dict) -> dict:
    try:
        return body["entry"][0]["changes"][0]["value"]
    except (KeyError, IndexError, TypeError):
        return {}


def whatsapp_section(report: Report, cfg: dict) -> None:
    s = Section(report, "pywa")
    import httpx
    from pywa import WhatsApp, handlers
    from pywa.types import Button
    from pywa.types.templates import BodyText, QuickReplyButton, TemplateLanguage

    sb = cfg["sandbox"]
    wcfg = cfg.get("whatsapp", {})
    control = sb["x_url"].rstrip("/") + "/sandbox/whatsapp"
    target = httpx.URL(sb["whatsapp_url"])
    version = str(wcfg.get("api_version", "v23.0")).lstrip("v")
    phone_id = str(wcfg.get("phone_number_id"))
    http = requests.Session()
    http.mount("http://", TimeoutAdapter())

    class SandboxTransport(httpx.HTTPTransport):
        """pywa builds https://graph.facebook.com/v<version>/...; this transport sends each
        request to the sandbox instead (same path, query, headers and body). WhatsApp requests
        carry a bearer token, not a signature over the URL, so nothing else changes."""

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            request.url = request.url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
            request.headers["Host"] = f"{target.host}:{target.port}"
            return super().handle_request(request)

    wa = WhatsApp(phone_id=phone_id, token=sb["whatsapp_token"], api_version=version,
                  session=httpx.Client(transport=SandboxTransport(), timeout=HTTP_TIMEOUT),
                  verify_token=sb["whatsapp_verify_token"], app_secret=sb["whatsapp_app_secret"],
                  validate_updates=True)
    receiver = WebhookReceiver(wa)
    wa.add_handlers(handlers.MessageHandler(receiver.on_update("message")),
                    handlers.CallbackButtonHandler(receiver.on_update("button")),
                    handlers.MessageStatusHandler(receiver.on_update("status")))
    number = "62812" + f"{secrets.randbelow(10**7):07d}"
    rid = secrets.token_hex(2)
    state: dict[str, Any] = {}

    def control_post(path: str, body: dict) -> dict:
        r = http.post(f"{control}/{path}", json=body)
        if r.status_code != 200:
            raise CheckFailed(f"control {path}: {response_summary(r)}")
        return r.json()

    def typed(delivery: dict | None, kind: str):
        return next((u for k, u in (delivery or {}).get("typed", []) if k == kind), None)

    def parse_failure(delivery: dict | None, what: str) -> str:
        if delivery is None:
            return f"no {what} webhook arrived"
        if delivery["errors"]:
            return f"pywa could not build the {what} update: {' | '.join(delivery['errors'])[:500]}; webhook value: " \
                   f"{short(json.dumps(wa_value(delivery['json'])), 400)}"
        return f"pywa built no {what} update from {short(json.dumps(delivery['json']), 400)}"

    def register() -> None:
        control_post("webhook-url", {"url": receiver.url})
        answer = control_post("verify-webhook", {"verify_token": sb["whatsapp_verify_token"]})
        expect(answer.get("verified") is True, f"hub.challenge handshake: {answer}")

    s.check("webhook-verify-handshake", register)

    def inbound() -> None:
        s.need("webhook-verify-handshake")
        answer = control_post("reply", {"from": number, "name": "Warga Tes", "text": f"halo {rid}"})
        state["inbound_id"] = answer.get("message_id")
        d = receiver.wait(lambda b: any(m.get("id") == state["inbound_id"] for m in wa_value(b).get("messages", [])))
        state["inbound_delivery"] = d
        expect(d is not None, f"no message webhook arrived (control answered {answer})")
        expect(d["valid"], f"pywa rejected the signature {d['signature']!r}: {d['errors']}")

    s.check("webhook-signature-verified", inbound)

    def inbound_parsed() -> None:
        s.need("webhook-signature-verified")
        d = state["inbound_delivery"]
        msg = typed(d, "message")
        expect(msg is not None, parse_failure(d, "Message"))
        expect(msg.text == f"halo {rid}" and msg.from_user.wa_id == number and msg.from_user.name == "Warga Tes",
               f"Message {msg.text!r} from {msg.from_user}")

    s.check("webhook-message-parsed", inbound_parsed)

    def user_id() -> None:
        s.need("webhook-signature-verified")
        d = state["inbound_delivery"]
        contacts = wa_value(d["json"]).get("contacts", [])
        expect(bool(contacts) and contacts[0].get("user_id") and contacts[0].get("wa_id") == number,
               f"message webhook contacts {contacts}: expected user_id (business-scoped id) and wa_id")
        msg = typed(d, "message")
        expect(msg is not None and msg.from_user.bsuid, parse_failure(d, "Message"))

    s.check("webhook-message-contacts-user-id", user_id)

    def mark_read() -> None:
        s.need("webhook-signature-verified")
        result = wa.mark_message_as_read(state["inbound_id"])
        expect(bool(result), f"mark_message_as_read answered {result!r}")

    s.check("mark-as-read", mark_read)

    def send_text() -> None:
        s.need("webhook-signature-verified")
        sent = wa.send_message(number, f"Laporan diterima, nomor tiket KC-{rid}")
        expect(sent.id.startswith("wamid.") and sent.input == number, f"sent {sent}")
        state["text_id"] = sent.id
        listed = http.get(f"{control}/messages", params={"to": number}).json()
        expect(any(m["id"] == sent.id and m["type"] == "text" for m in listed), f"control listing {listed}")

    s.check("send-text", send_text)

    def status() -> None:
        s.need("send-text")
        d = receiver.wait(lambda b: any(st.get("id") == state["text_id"] and st.get("status") == "delivered"
                                        for st in wa_value(b).get("statuses", [])))
        expect(d is not None and d["valid"], f"no verified 'delivered' status webhook: {d}")
        st = typed(d, "status")
        expect(st is not None, parse_failure(d, "MessageStatus"))
        expect(st.status == "delivered" and st.from_user.wa_id == number and st.pricing is not None,
               f"MessageStatus {st.status} {st.from_user} {st.pricing}")

    s.check("webhook-status-parsed", status)

    def pricing() -> None:
        s.need("webhook-status-parsed")
        d = receiver.wait(lambda b: any(st.get("id") == state["text_id"] and st.get("status") == "delivered"
                                        for st in wa_value(b).get("statuses", [])))
        p = typed(d, "status").pricing
        # Since 1 October 2026 Meta charges service (free-form) messages inside the window too.
        expect(p.billable is True and p.model.value == "PMP" and p.category.value == "service"
               and p.type is not None and p.type.value == "regular",
               f"pricing of a delivered text in the window: {p!r}; expected billable PMP service regular")

    s.check("status-pricing-service-billable", pricing)

    def usage() -> None:
        s.need("webhook-status-parsed")
        r = http.get(f"{control}/usage")
        body = json_of(r)
        expect(r.status_code == 200 and isinstance(body, dict), f"GET /sandbox/whatsapp/usage: {response_summary(r)}")
        total = body.get("total") or {}
        days = body.get("days") or []
        expect(set(total) == {"service", "utility"} and total["service"] >= 1,
               f"total {total!r}: the delivered text should count as service")
        expect(bool(days) and all(set(d.get("delivered", {})) == {"service", "utility"} for d in days)
               and sum(d["delivered"]["service"] for d in days) == total["service"],
               f"days {days!r} do not add up to the total {total!r}")

    s.check("usage-counters", usage)

    def status_contacts() -> None:
        s.need("send-text")
        d = receiver.wait(lambda b: any(st.get("id") == state["text_id"] for st in wa_value(b).get("statuses", [])))
        expect(d is not None, "no status webhook")
        contacts = wa_value(d["json"]).get("contacts")
        expect(bool(contacts) and contacts[0].get("user_id") and contacts[0].get("wa_id") == number,
               f"status webhook value has contacts={contacts!r}; expected contacts[] with user_id and wa_id "
               f"(value keys: {sorted(wa_value(d['json']))})")

    s.check("webhook-status-contacts", status_contacts)

    def read_status() -> None:
        s.need("send-text")
        control_post("read", {"message_id": state["text_id"]})
        d = receiver.wait(lambda b: any(st.get("id") == state["text_id"] and st.get("status") == "read"
                                        for st in wa_value(b).get("statuses", [])))
        st = typed(d, "status")
        expect(st is not None and st.status == "read", parse_failure(d, "MessageStatus (read)"))

    s.check("webhook-read-status-parsed", read_status)

    def buttons() -> None:
        s.need("webhook-signature-verified")
        sent = wa.send_message(number, f"Tiket KC-{rid}: terima atau tolak?",
                               buttons=[Button("Terima", callback_data="terima"), Button("Tolak", callback_data="tolak")])
        state["buttons_id"] = sent.id

    s.check("send-reply-buttons", buttons)

    def press() -> None:
        s.need("send-reply-buttons")
        answer = control_post("reply", {"from": number, "button_reply": {"id": "terima", "title": "Terima"},
                                        "context_id": state["buttons_id"]})
        d = receiver.wait(lambda b: any(m.get("id") == answer.get("message_id") for m in wa_value(b).get("messages", [])))
        expect(d is not None and d["valid"], f"no verified button webhook: {d}")
        cb = typed(d, "button")
        expect(cb is not None, parse_failure(d, "CallbackButton"))
        expect(cb.data == "terima" and cb.reply_to_message.message_id == state["buttons_id"], f"CallbackButton {cb}")

    s.check("webhook-button-reply-parsed", press)

    template = str(wcfg.get("ticket_template", "kicau_tiket_baru"))
    language = TemplateLanguage(str(wcfg.get("template_language", "id")))

    def send_template() -> None:
        s.need("webhook-signature-verified")
        # pywa writes component types in upper case ("BODY", sub_type "QUICK_REPLY", index 0).
        sent = wa.send_template(number, name=template, language=language,
                                params=[BodyText.params(f"KC-{rid}", "jalan berlubang", "Pasar Besar"),
                                        QuickReplyButton.params(callback_data="TERIMA", index=0)])
        expect(sent.id.startswith("wamid."), f"sent {sent}")

    s.check("send-template-upper-case-components", send_template)

    def template_lower_raw() -> None:
        # Not a library call: the same template with lower-case types, to tell a case problem
        # apart from any other refusal of the template above.
        r = http.post(f"{sb['whatsapp_url'].rstrip('/')}/v{version}/{phone_id}/messages",
                      headers={"Authorization": f"Bearer {sb['whatsapp_token']}"},
                      json={"messaging_product": "whatsapp", "to": number, "type": "template",
                            "template": {"name": template, "language": {"code": language.value},
                                         "components": [{"type": "body", "parameters": [
                                             {"type": "text", "text": "KC-1"}, {"type": "text", "text": "jalan"},
                                             {"type": "text", "text": "pasar"}]}]}})
        expect(r.status_code == 200, response_summary(r))

    s.check("send-template-lower-case-raw-baseline", template_lower_raw)

    def failed_status() -> None:
        s.need("webhook-signature-verified")
        control_post("close-window", {"number": number})
        sent = wa.send_message(number, f"Pesan di luar jendela 24 jam {rid}")
        d = receiver.wait(lambda b: any(st.get("id") == sent.id and st.get("status") == "failed"
                                        for st in wa_value(b).get("statuses", [])))
        st = typed(d, "status")
        expect(st is not None, parse_failure(d, "MessageStatus (failed)"))
        expect(st.status == "failed" and st.error is not None and st.error.code == 131047,
               f"MessageStatus {st.status} error {st.error!r}")

    s.check("webhook-failed-status-131047-parsed", failed_status)

    receiver.close()


# --- Main ----------------------------------------------------------------------------------------


def guarded(report: Report, name: str, fn: Callable[[], None]) -> None:
    """Runs a section; a crash outside its checks is reported, and the next section runs."""
    try:
        fn()
    except Exception as e:
        report.line(f"{name}.section", False, f"section crashed: {describe_exception(e)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, help="the bot.toml copy the sandbox runs with")
    parser.add_argument("--spec-dir", default=str(DEFAULT_SPEC_DIR), help="folder with X's openapi.json files")
    parser.add_argument("--strict", choices=["on", "off", "refused"], default="off",
                        help="whether the sandbox runs with [sandbox] strict = true (refused: it would not start with it)")
    parser.add_argument("--only", default="x,telegram,whatsapp", help="sections to run, comma separated")
    args = parser.parse_args()

    cfg = tomllib.loads(Path(args.config).read_text(encoding="utf-8"))
    sections = {s.strip() for s in args.only.split(",")}
    report = Report()

    specs = None
    try:
        specs = Specs(Path(args.spec_dir))
    except Exception as e:
        report.line("x.openapi-load", False, describe_exception(e))

    if "x" in sections:
        x = XSandbox(cfg)
        guarded(report, "x", lambda: x_common_section(report, x))
        before = json_of(x.http.get(f"{x.url}/sandbox/x/usage"))
        guarded(report, "xdk", lambda: xdk_section(report, x, specs, args.strict))
        guarded(report, "tweepy", lambda: tweepy_section(report, x, specs))
        guarded(report, "x", lambda: x_usage_section(report, x, before if isinstance(before, dict) else None))
    if "telegram" in sections:
        guarded(report, "telegram", lambda: telegram_section(report, cfg))
    if "whatsapp" in sections:
        guarded(report, "pywa", lambda: whatsapp_section(report, cfg))

    print(f"{report.passed} passed, {report.failed} failed", flush=True)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
