"""What the property-based tests share: their Hypothesis profiles and the hostile values they draw."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

settings.register_profile(
    "default",
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long",
    max_examples=1000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = settings.get_profile(os.environ.get("ATTRIX_FUZZ", "default"))
"""The profile every property here runs under: ``default``, or the one ``ATTRIX_FUZZ`` names (``long``)."""

FRAGMENTS = [
    "😀",
    "👨\u200d👩\u200d👧",
    "🏳️\u200d🌈",
    "שלום",
    "مرحبا بالعالم",
    "e\u0301",
    "a\u0308\u0323",
    "\u200b",
    "\u200d",
    "\u200e",
    "\u202e",
    "\ufeff",
    "\x00",
    "\x1b[31m",
    "\x1b]0;title\x07",
    "\n",
    "\r\n",
    "\t",
    "\u2028",
    "\u0085",
    "[CLS]",
    "[SEP]",
    "[PAD]",
    "[UNK]",
    "[MASK]",
    "[CLS] [SEP] [PAD]",
    "<s>",
    "</s>",
    "!!!",
    "...",
    "?!",
    "—",
    "''",
    "\ud800",
    "\udfff",
    "i love this movie",
    "the food was awful",
    " ",
    "ﬁ",
    "Ⅻ",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "漢字",
    "<b>",
    "&amp;",
]
"""Pieces of hostile text: emoji and joiners, right-to-left scripts, combining marks, zero-width and control
characters, escape sequences, line separators, special-token strings, punctuation only, lone surrogates."""

texts = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), min_size=0, max_size=6).map("".join)
"""Arbitrary Unicode texts built of hostile fragments and any characters."""


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=6)),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=6), children, max_size=4)),
    max_leaves=12,
)
"""Any JSON value: null, booleans, numbers, short strings, and lists and objects of them."""
