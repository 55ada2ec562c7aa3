"""Text made speakable before TTS: `normalize_for_tts(text) -> Normalized(text, dropped)`.

The English voices read what they are given letter by letter: "$5.50" becomes "dollar five point five zero" and
"東京" becomes "Chinese letter, Chinese letter". Here numbers, money, times, dates, fractions, ordinals, common
abbreviations and symbols are written out in words (numbers by num2words), accented Latin letters lose their accents
(café -> cafe), and characters that no English voice can say (CJK, emoji, other scripts) are dropped and reported.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Normalized:
    text: str             # what the TTS is given
    dropped: str = ""     # characters that cannot be spoken, in order of first appearance

    def notice(self, original: str) -> str | None:
        """One line saying what changed, or None when the text is spoken as written."""
        parts = []
        if self.text != " ".join(original.split()):
            parts.append(f"the TTS says {self.text!r} for {' '.join(original.split())!r}")
        if self.dropped:
            parts.append(f"cannot be spoken and left out: {self.dropped!r}")
        return "notice: " + "; ".join(parts) if parts else None


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
# symbol -> (unit, plural unit, hundredth, plural hundredth)
CURRENCIES = {"$": ("dollar", "dollars", "cent", "cents"), "€": ("euro", "euros", "cent", "cents"),
              "£": ("pound", "pounds", "penny", "pence"), "¥": ("yen", "yen", "sen", "sen")}
# Written only with the dot, so that words like "no", "st" or "vs" in ordinary text are left alone.
ABBREVIATIONS = {"dr.": "Doctor", "mr.": "Mister", "mrs.": "Missus", "ms.": "Miz", "prof.": "Professor",
                 "jr.": "Junior", "sr.": "Senior", "mt.": "Mount", "ave.": "Avenue", "rd.": "Road", "vs.": "versus",
                 "etc.": "et cetera", "e.g.": "for example", "i.e.": "that is", "approx.": "approximately",
                 "dept.": "department", "fig.": "figure", "no.": "number", "st.": "Saint"}
BEFORE_A_NUMBER = ("no.", "fig.")  # "No. 5" is a number, "I said no." is not
SYMBOLS = {"&": " and ", "%": " percent", "+": " plus ", "=": " equals ", "@": " at ", "#": " number ",
           "°": " degrees", "×": " times ", "½": " and a half", "¼": " and a quarter", "¾": " and three quarters",
           "—": ", ", "–": ", ", "…": "...", "“": '"', "”": '"', "‘": "'", "’": "'", "/": " slash "}
# Latin letters that have no decomposition into a base letter + accent.
LETTERS = {"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L",
           "đ": "d", "Đ": "D", "þ": "th", "Þ": "Th", "ð": "d", "ı": "i"}
SPEAKABLE = re.compile(r"[A-Za-z0-9 .,;:!?'\"()\-\n]")


MAX_DIGITS = 15  # longer digit strings are codes (phone numbers, ids), read digit by digit, as people read them


def say_number(digits: str) -> str:
    from num2words import num2words

    digits = digits.replace(",", "")
    if len(digits.lstrip("0")) > MAX_DIGITS:
        return " ".join(num2words(int(d)) for d in digits)
    return num2words(int(digits)).replace(",", "")


def say_decimal(number: str) -> str:
    from num2words import num2words

    whole, _, fraction = number.replace(",", "").partition(".")
    spoken = say_number(whole or "0")
    return spoken + (" point " + " ".join(num2words(int(d)) for d in fraction) if fraction else "")


def say_ordinal(digits: str) -> str:
    from num2words import num2words

    if len(digits.lstrip("0")) > MAX_DIGITS:
        return say_number(digits)
    return num2words(int(digits), to="ordinal").replace(",", "")


def say_money(match: re.Match) -> str:
    unit, units, cent, cents = CURRENCIES[match["symbol"]]
    whole = int(match["whole"].replace(",", ""))
    words = f"{say_number(str(whole))} {unit if whole == 1 else units}"
    if match["cents"] and int(match["cents"]):
        hundredths = int(match["cents"].ljust(2, "0")[:2])
        words += f" and {say_number(str(hundredths))} {cent if hundredths == 1 else cents}"
    return words + (f" {match['scale']}" if match["scale"] else "")


def say_time(match: re.Match) -> str:
    hour, minute, half = int(match["hour"]), int(match["minute"] or 0), match["half"]
    words = say_number(str(hour))
    if minute:
        words += (" oh " if minute < 10 else " ") + say_number(str(minute))
    elif not half:
        words += " o'clock"
    return words + (f" {half[0].upper()} M" if half else "")  # "A M": the voice says the two letters


def say_date(month: int, day: int, year: str | None) -> str:
    words = f"{MONTHS[month - 1]} {say_ordinal(str(day))}"
    return words + (f", {say_year(year)}" if year else "")


def say_year(digits: str) -> str:
    from num2words import num2words

    year = int(digits) + (2000 if len(digits) == 2 else 0)
    return num2words(year, to="year").replace(",", "")


def say_fraction(match: re.Match) -> str:
    top, bottom = int(match["top"]), int(match["bottom"])
    if bottom < 2:
        return f"{say_number(str(top))} slash {say_number(str(bottom))}"
    if bottom == 2:
        name = "half" if top == 1 else "halves"
    elif bottom == 4:
        name = "quarter" if top == 1 else "quarters"
    else:
        name = say_ordinal(str(bottom)) + ("" if top == 1 else "s")
    return f"{say_number(str(top))} {name}"


def replace_dates(text: str) -> str:
    """m/d/yyyy, yyyy-mm-dd, and m/d after on/by/until/from/since/before/after (US order, as the voice is US)."""
    def full(m):
        month, day = int(m["month"]), int(m["day"])
        return say_date(month, day, m["year"]) if 1 <= month <= 12 and 1 <= day <= 31 else m[0]

    text = re.sub(r"\b(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})\b", full, text)
    text = re.sub(r"\b(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4}|\d{2})\b", full, text)

    def short(m):
        month, day = int(m["month"]), int(m["day"])
        return f"{m['word']} {say_date(month, day, None)}" if 1 <= month <= 12 and 1 <= day <= 31 else m[0]

    return re.sub(r"\b(?P<word>on|by|until|from|since|before|after)\s+(?P<month>\d{1,2})/(?P<day>\d{1,2})\b",
                  short, text, flags=re.IGNORECASE)


def replace_numbers(text: str) -> str:
    symbols = "".join(map(re.escape, CURRENCIES))
    text = re.sub(rf"(?P<symbol>[{symbols}])\s?(?P<whole>\d[\d,]*)(?:\.(?P<cents>\d+))?"
                  r"(?:\s?(?P<scale>thousand|million|billion|trillion)\b)?", say_money, text)
    text = re.sub(r"\b(?P<hour>\d{1,2})(?::(?P<minute>[0-5]\d))?\s?(?P<half>[aApP])\.?[mM]\b\.?", say_time, text)
    text = re.sub(r"\b(?P<hour>\d{1,2}):(?P<minute>[0-5]\d)\b(?P<half>)", say_time, text)
    text = replace_dates(text)
    text = re.sub(r"\b(?P<top>\d{1,3})/(?P<bottom>\d{1,3})\b", say_fraction, text)
    text = re.sub(r"\b(\d+)(?:st|nd|rd|th)\b", lambda m: say_ordinal(m[1]), text, flags=re.IGNORECASE)
    # four-digit numbers 1100-2099 without a comma are read as years ("in 1999"): the common case in speech
    text = re.sub(r"(?<![\d,.])\b(1[1-9]\d\d|20\d\d)\b(?!\d|,\d|\.\d)", lambda m: say_year(m[1]), text)
    text = re.sub(r"(?<![\w.])-(?=\d)", "minus ", text)
    return re.sub(r"\d[\d,]*(?:\.\d+)?",  # spaced apart, so that "10km" becomes "ten km"
                  lambda m: f" {say_decimal(m[0].rstrip(','))}{',' if m[0].endswith(',') else ''} ", text)


def replace_abbreviations(text: str) -> str:
    pattern = "|".join(re.escape(k) for k in sorted(ABBREVIATIONS, key=len, reverse=True))

    def expand(m):
        word, after = ABBREVIATIONS[m[0].lower()], m.string[m.end():]
        if m[0].lower() in BEFORE_A_NUMBER and not re.match(r"\s*\d", after):
            return m[0]
        if m[0].lower() == "st." and not re.match(r"\s+[A-Z]", after):
            word = "Street"  # "St. Louis" is a saint, "Main St." a street
        return word + ("." if not after.strip() else "")  # its dot also ended the sentence

    return re.sub(rf"(?<![\w.])(?:{pattern})", expand, text, flags=re.IGNORECASE)


def strip_accents(text: str) -> tuple[str, str]:
    """(text with Latin accents removed and unspeakable characters dropped, the dropped characters)."""
    out, dropped = [], []
    for ch in text:
        ch = LETTERS.get(ch, ch)
        plain = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        if all(SPEAKABLE.match(c) for c in plain):
            out.append(plain)
        else:
            out.append(" ")
            if ch not in dropped and not ch.isspace():
                dropped.append(ch)
    return "".join(out), "".join(dropped)


def normalize_for_tts(text: str) -> Normalized:
    """Words a US English voice can say, and what had to be left out. Money, times and dates are expanded before
    the symbols, so "$" and "/" only become words where they are not part of one."""
    text = replace_abbreviations(" ".join(text.split()))
    text = replace_numbers(text)
    for symbol, words in SYMBOLS.items():
        text = text.replace(symbol, words)
    text, dropped = strip_accents(text)
    text = re.sub(r"\s+([,.;:!?])", r"\1", " ".join(text.split()))
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text).strip(" ,;:")
    return Normalized(text, dropped)
