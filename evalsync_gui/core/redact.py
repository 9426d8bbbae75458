"""The one redactor: every log record and every error message passes through :func:`redact`.

Two layers:

* **Registered secrets.** Code that holds a secret (the keyring store, the auth objects, the
  OAuth token answer, the SMTP password) calls :func:`register_secret`. From then on the secret
  is masked wherever it appears in any of the forms it travels in: as is, upper- or lower-cased,
  percent-encoded, base64 (standard and URL-safe, with or without padding) and *partial* base64:
  the secret's bytes inside a longer base64 text (``Basic base64("me@x/token:SECRET")``) at each
  of the three byte alignments.
* **Shapes.** ``key=value``, ``key: value``, ``"key": "value"`` (quoted or not; JSON, Python
  reprs, query strings, forms, httpcore's ``(b'Set-Cookie', b'…')`` header tuples) for the keys
  of credentials in snake, kebab or camel case (``code``, ``access_token``/``accessToken``,
  ``refresh_token``, ``client_secret``, ``password``, ``token``, ``Authorization``, ``Cookie``,
  ``Set-Cookie``, ...), ``Bearer``/``Basic`` credentials anywhere, and passwords in URLs.

Secrets shorter than :data:`MIN_SECRET` characters are not registered: masking every copy of
a three-letter string would mask ordinary words, and real tokens are long.
"""

from __future__ import annotations

import base64
import re
import threading
from urllib.parse import quote, quote_plus

REDACTED = "[redacted]"
MIN_SECRET = 8

_lock = threading.Lock()
_plain: set[str] = set()
_encoded: set[str] = set()
_plain_pattern: re.Pattern[str] | None = None
_encoded_pattern: re.Pattern[str] | None = None
# A base64 text, as long as it runs: a secret's base64 form swallows the run around it, because
# the bytes next to the secret in "me@x/token:SECRET" are not secret but the bits at the edges are.
# Runs are found first and searched second: one pattern that did both ("[…]*form[…]*") backtracked
# over the whole run from every start, seconds for a 10,000-letter run, hours for a large body.
_B64_RUN = re.compile(r"[A-Za-z0-9+/_-]+=*")


def _b64_forms(raw: bytes) -> set[str]:
    """Every base64 text that appears wherever ``raw`` is base64-encoded inside longer data."""
    found: set[str] = set()
    for skip in range(3):  # the secret may start at any byte alignment of the outer text
        chunk = raw[skip:]
        aligned = chunk[: len(chunk) - len(chunk) % 3]
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            if skip == 0:
                full = encode(raw).decode("ascii")
                found |= {full, full.rstrip("=")}
            if len(aligned) >= 6:
                found.add(encode(aligned).decode("ascii"))
    return found


def secret_forms(secret: str) -> set[str]:
    """The texts under which ``secret`` may appear in a log line or an error message."""
    return _plain_forms(secret) | _encoded_forms(secret)


def _plain_forms(secret: str) -> set[str]:
    forms = {secret, secret.upper(), secret.lower(), quote(secret, safe=""), quote_plus(secret)}
    return {f for f in forms if len(f) >= MIN_SECRET}


def _encoded_forms(secret: str) -> set[str]:
    return {f for f in _b64_forms(secret.encode("utf-8")) if len(f) >= MIN_SECRET}


def _alternation(forms: set[str]) -> str:
    return "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))  # longest first


def register_secret(secret: str | None) -> None:
    """Mask ``secret`` (in all its forms) in every later :func:`redact` call of this process."""
    global _plain_pattern, _encoded_pattern
    if not secret or len(secret) < MIN_SECRET:
        return
    plain, encoded = _plain_forms(secret), _encoded_forms(secret)
    with _lock:
        if plain <= _plain and encoded <= _encoded:
            return
        _plain.update(plain)
        _encoded.update(encoded)
        _plain_pattern = re.compile(_alternation(_plain)) if _plain else None
        _encoded_pattern = re.compile(_alternation(_encoded)) if _encoded else None


def forget_all_secrets() -> None:
    """Drop every registered secret (tests)."""
    global _plain_pattern, _encoded_pattern
    with _lock:
        _plain.clear()
        _encoded.clear()
        _plain_pattern = _encoded_pattern = None


def _mask_secrets(text: str) -> str:
    plain, encoded = _plain_pattern, _encoded_pattern
    if plain is not None:
        text = plain.sub(REDACTED, text)
    if encoded is not None:
        text = _B64_RUN.sub(lambda run: REDACTED if encoded.search(run.group()) else run.group(), text)
    return text


# -- shapes ----------------------------------------------------------------------------------
_KEYS = (
    r"access[_-]?token", r"refresh[_-]?token", r"id[_-]?token", r"api[_-]?token", r"auth[_-]?token",
    r"client[_-]?secret", r"code[_-]?verifier", r"api[_-]?key", r"apikey", r"password", r"passwd",
    r"pass[_-]?phrase", r"secret", r"token",
)
_HEADERS = r"(?:proxy-)?authorization|set-cookie|cookie"
# A key starts a word, or a camelCase part (refreshToken, userPassword).
_START = r"(?:(?<![A-Za-z0-9])|(?<=[a-z])(?=[A-Z]))"
_KEY = rf"{_START}(?i:{'|'.join(_KEYS)}|code|{_HEADERS})(?![A-Za-z0-9])"
_KEY_NOT_CODE = rf"{_START}(?i:{'|'.join(_KEYS)}|{_HEADERS})(?![A-Za-z0-9])"
_CODE = rf"{_START}(?i:code)(?![A-Za-z0-9])"
_UNQUOTED = r"""([^\s&,;'"}\])]+)"""
_HEADER_KEY = rf"(?<![A-Za-z0-9-])(?i:{_HEADERS})(?![A-Za-z0-9-])"

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # httpcore's header tuples: (b'Set-Cookie', b'session=…'), ('authorization', 'Bearer …')
    (re.compile(rf"""(b?['"][A-Za-z0-9_-]*?{_KEY}['"],\s*b?['"])([^'"]*)"""), rf"\1{REDACTED}"),
    # Authorization: Bearer abc / 'Cookie': 'a=b; c=d' / set-cookie=...: the whole value
    (re.compile(rf"""({_HEADER_KEY}['"]?\s*[:=]\s*)(['"]?)([^'"\r\n]+)"""), rf"\1\2{REDACTED}"),
    # Bare scheme credentials anywhere: "Bearer abc.def", "Basic dXNlcjpwYXNz"
    # (the look-ahead wants a digit or base64 symbol, so prose such as "basic authentication" stays)
    (re.compile(r"(?i)\b(bearer|basic)\s+(?=[A-Za-z\-._~]*[0-9+/=])([A-Za-z0-9\-._~+/]{6,}=*)"), rf"\1 {REDACTED}"),
    # "access_token": "value" / 'password': 'x' / token = "x"
    (re.compile(rf"""(["']?{_KEY}["']?\s*[:=]\s*)(["'])((?:(?!\2).)*)(\2)"""), rf"\1\2{REDACTED}\4"),
    # access_token=value&..., password: x (unquoted)
    (re.compile(rf"({_KEY_NOT_CODE}\s*[:=]\s*)(?!\[redacted\]){_UNQUOTED}"), rf"\1{REDACTED}"),
    # code=abc (an OAuth code), but "status code: 404" stays
    (re.compile(rf"""({_CODE}\s*[:=]\s*)(?!\[redacted\])(?![0-9]{{1,5}}(?:[\s&,;'"}}\])]|\.?(?:\s|$))){_UNQUOTED}"""),
     rf"\1{REDACTED}"),
    # Credentials inside URLs: https://user:pass@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)([^/\s:@]+):([^/\s@]+)@"), rf"\1\2:{REDACTED}@"),
]


def redact(text: str) -> str:
    """``text`` with every registered secret and every credential-shaped value replaced by ``[redacted]``."""
    text = _mask_secrets(text)
    for shape, replacement in _PATTERNS:
        text = shape.sub(replacement, text)
    return text
