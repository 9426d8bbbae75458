"""Name material for a realistic organisation: accents, apostrophes, spaces, many origins."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

FIRST_NAMES = (
    "Zoë", "Chloé", "José", "Sinéad", "Seán", "Björn", "Łukasz", "François", "Renée", "Siobhán",
    "Aoife", "Niamh", "Mateo", "Lucía", "Noémie", "Jürgen", "Søren", "Åsa", "Ingrid", "Tomás",
    "Amélie", "Hélène", "Anaïs", "Raúl", "Inés", "Małgorzata", "Dorothée", "Oğuz", "Çağla", "Kofi",
    "Amara", "Priya", "Arjun", "Mei", "Hiroshi", "Yuki", "Olu", "Fatima", "Omar", "Leila",
    "Emma", "Oliver", "Sophie", "James", "Grace", "Liam", "Ava", "Noah", "Mia", "Ethan",
    "Hannah", "Daniel", "Ella", "Samuel", "Ruth", "Marcus", "Claire", "Peter", "Anna", "David",
)

LAST_NAMES = (
    "O'Brien", "D'Angelo", "Müller", "García", "Nguyễn", "Ó Súilleabháin", "Kowalczyk", "Smith",
    "O'Connor", "Dubois", "Lefèvre", "Núñez", "Gößmann", "Ødegaard", "Åberg", "Van der Berg",
    "MacDonald", "McCarthy", "Kelly", "Byrne", "Walsh", "Murphy", "Doyle", "Ryan", "Brennan",
    "Fernández", "López", "Martín", "Çelik", "Yılmaz", "Öztürk", "Šimić", "Dvořák", "Novák",
    "Jones", "Taylor", "Brown", "Wilson", "Evans", "Thomas", "Roberts", "Johnson", "Lewis",
    "Okafor", "Mensah", "Patel", "Sharma", "Chen", "Wang", "Tanaka", "Sato", "Kim", "Park",
    "D'Souza", "L'Estrange", "Saint-Pierre", "da Silva", "dos Santos", "Al-Farsi", "Haddad",
)

TIME_ZONES = (
    ("London", "Europe/London"),
    ("Dublin", "Europe/Dublin"),
    ("Paris", "Europe/Paris"),
    ("Berlin", "Europe/Berlin"),
    ("Eastern Time (US & Canada)", "America/New_York"),
    ("Pacific Time (US & Canada)", "America/Los_Angeles"),
    ("Europe/Madrid", "Europe/Madrid"),
)

LOCALES = (("en-US", 1), ("en-US", 1), ("en-US", 1), ("en-GB", 1176), ("fr", 16), ("de", 8), ("es", 2))

CUSTOMER_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.ie")


@lru_cache(maxsize=4096)
def ascii_slug(text: str) -> str:
    """``"Ó Súilleabháin"`` -> ``"osuilleabhain"``: emails stay ASCII like real sign-ups do."""
    folded = unicodedata.normalize("NFKD", text.replace("ø", "o").replace("Ø", "O").replace("ł", "l").replace("Ł", "L")
                                   .replace("ß", "ss").replace("ı", "i"))
    return "".join(ch for ch in folded.lower() if ch.isascii() and ch.isalnum())
