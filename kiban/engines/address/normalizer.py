"""住所正規化: a typed Japanese address → prefecture, municipality, town, house number, building, codes.

How a call works (no tokeniser, no backtracking regex; each step is a longest-prefix dict lookup):
1. `prepare()` (NFKC, whitespace), cut a leading 〒/postal code and a leading bracketed note;
2. fold variants (ヶ→ケ, 澤→沢 …) and turn numerals before counters into digits, giving the matching key;
3. prefecture (optional) → municipality (within the prefecture, or nation-wide when it is missing; wards
   alone and 郡-less names are keys too) → town within the municipality (or all wards of a designated
   city), each the longest key that matches. When the municipality is missing the town is looked up
   nation-wide. Several candidates are told apart by the town that follows, the postal code written in
   front, or `default_body`; otherwise the result says it is ambiguous and lists them;
4. 丁目 right after the town goes into the town (霞が関二丁目); the house number is read as `1-2-3`
   (kanji numerals, 番地/番/号/の, every hyphen form); what follows is the building.
The cost is bounded: the input is cut at MAX_INPUT_CHARS and every loop is over a fixed key length.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from kiban.engines.address.index import AddressIndex, load_index
from kiban.engines.address.text import (
    HYPHENS,
    KANJI_NUM_CHARS,
    MAX_INPUT_CHARS,
    fold,
    int_to_kanji,
    key,
    keyed_with_map,
    number_value,
    prepare,
)

LEVELS = {0: "不明", 1: "都道府県", 2: "市区町村", 3: "町字", 4: "町字＋番地"}

CORRECTION_LABELS = {
    "width": "全角・半角・空白を統一",
    "postal_code": "先頭の郵便番号を分離",
    "bracket": "先頭の括弧書きを除去",
    "truncated": "長すぎる入力を切り詰め",
    "pref_added": "都道府県を補完",
    "pref_suffix": "都道府県の「都・府・県」を補完",
    "city_added": "市区町村を補完",
    "ward_added": "行政区を補完",
    "county": "郡を補完",
    "spelling": "表記ゆれ・異体字を修正",
    "oaza": "大字・字の有無を調整",
    "town_suffix": "町名の「町」を補完",
    "counter": "条・番町・線の省略を補完",
    "numerals": "漢数字・全角数字を算用数字に",
    "house_number": "番地・号の表記を「1-2-3」形式に",
}


@dataclass(slots=True)
class Correction:
    """What was corrected (補正内容): a kind from CORRECTION_LABELS, and the text before and after."""

    kind: str
    before: str = ""
    after: str = ""

    @property
    def label(self) -> str:
        return CORRECTION_LABELS.get(self.kind, self.kind)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "label": self.label, "before": self.before, "after": self.after}


@dataclass(slots=True)
class AddressResult:
    """正規化結果. `level`: 0 none, 1 prefecture, 2 municipality, 3 town, 4 town + 番地."""

    input: str
    pref: str | None = None
    city: str | None = None
    town: str | None = None
    rest: str = ""
    building: str = ""
    street: str = ""  # 京都の通り名 (四条通烏丸東入), kept apart from the town
    lg_code: str | None = None
    pref_code: str | None = None
    postal_code: list[str] = field(default_factory=list)
    level: int = 0
    corrections: list[Correction] = field(default_factory=list)
    reason: str | None = None
    ambiguity: list[str] = field(default_factory=list)

    @property
    def address(self) -> str:
        """The normalised address as one string (建物名 after a space)."""
        head = "".join(x for x in (self.pref, self.city, self.street, self.town) if x)
        if self.rest:
            # text that is not a house number is set apart, so that it cannot merge with the name before it
            head += self.rest if self.rest[0].isascii() and self.rest[0].isalnum() else " " + self.rest
        return f"{head} {self.building}".strip() if self.building else head

    def as_dict(self) -> dict:
        data = asdict(self)
        data["corrections"] = [c.as_dict() for c in self.corrections]
        data["address"] = self.address
        return data


# --- patterns (all anchored, linear) --------------------------------------------------------------------
_H = re.escape(HYPHENS)
_NUM = rf"(?:[0-9]+|[{KANJI_NUM_CHARS}]+)"
_POSTAL_RE = re.compile(rf"^(?:〒|郵便番号|T)?\s*[:：]?\s*([0-9]{{3}})\s*[{_H}]?\s*([0-9]{{4}})(?![0-9])\s*")
_LEAD_BRACKET_RE = re.compile(r"^[(\[【「『〈《]([^)\]】」』〉》]{0,30})[)\]】」』〉》]\s*")
_CHOME_RE = re.compile(rf"[\s{_H}]*({_NUM})(?:丁目|町目|丁)")
# 丁目 not written: 1-2-3 (a number and a separator before the next number) or a lone trailing number
_CHOME_BARE_RE = re.compile(
    rf"[\s{_H}]*([0-9]+|[{KANJI_NUM_CHARS}]+)\s*(?:(?:[{_H}のノ之丿.]|丁目|番地|番|号)\s*)+(?=[0-9{KANJI_NUM_CHARS}])"
)
_NUMBER_RE = re.compile(rf"({_NUM})")
# 14-A22, 14-イ22, 2-3-B, Ａ二二
_ALNUM_RE = re.compile(rf"([A-Za-zイロハニホヘト]?(?:[0-9]+|[{KANJI_NUM_CHARS}]+)|[A-Za-z](?![A-Za-z]))")
_SEP_RE = re.compile(rf"\s*((?:(?:丁目|番地|番|号|の|ノ|之|丿|[{_H}]|\.)\s*)+)")
_LETTER_FIRST_RE = re.compile(rf"([A-Za-z])(?=\s*[{_H}]\s*[0-9])")  # 上町A-5
_BUILDING_UNIT_RE = re.compile(r"(?:階|F(?![a-zA-Z])|号室|号棟|号館|棟|室|番館|丁目)")
# 小字・地割 between the town and the number: 字宮根123, 第4地割1001, 麦生11-2 (stops at the first digit)
_KOAZA_CHARS = rf"[^0-9A-Za-z{_H}\s()\[\]【】「」『』〈〉《》,、.。・:;]"
_KOAZA_RE = re.compile(
    rf"(第?[0-9]+地割|字[^0-9{_H}\s]{{1,12}}?(?=\s*[0-9{KANJI_NUM_CHARS}])|{_KOAZA_CHARS}{{1,12}}?(?=\s*[0-9]))"
)
# the same before a kanji house number (亥 四十五番地1), tried second so that 十一番町1881 keeps its name
_KOAZA_KANJI_RE = re.compile(rf"({_KOAZA_CHARS}{{1,12}}?)(?=\s*[{KANJI_NUM_CHARS}]+(?:番|丁目|号|[{_H}]))")
_JO_OMITTED_RE = re.compile(rf"([^0-9\s{_H}]{{1,8}}?)([0-9]{{1,2}})(?=[^0-9条線丁番])")
_STRAY_SEP_RE = re.compile(rf"^(?:(?:番地|番|号)[\s{_H}]*)+")
_MAX_BARE_CHOME = 30  # beyond this a bare number is a 番地 (中野32-5, 柏ケ谷713-7), not a 丁目
_STREET_MARK_RE = re.compile(
    r"(?:上る|上ル|下る|下ル|東入る|東入ル|東入|西入る|西入ル|西入|入る|入ル|上がる|下がる)(?:[東西南北]側)?"
    r"([0-9]{1,2}丁目)?"
)
_HOUSE_NUMBER_RE = re.compile(r"[0-9]+(?![0-9]|条|丁目|筋目|丁|番町|軒)")
_LEAD_JUNK = " ,、。・:：;；"
# between the town and the house number: spaces, punctuation, hyphens (紀尾井町-1-3), の (旭市ハの74-2)
_LEAD_RE = re.compile(rf"[{re.escape(_LEAD_JUNK)}{_H}]*(?:[のノ]\s*(?=[0-9{KANJI_NUM_CHARS}]))?")


def _longest(d: dict, s: str, pos: int, maxlen: int):
    """Longest key of `d` that `s` has at `pos`: (end, value) or (pos, None)."""
    n = min(maxlen, len(s) - pos)
    for length in range(n, 0, -1):
        value = d.get(s[pos : pos + length])
        if value is not None:
            return pos + length, value
    return pos, None


def _skip_spaces(s: str, pos: int) -> int:
    while pos < len(s) and s[pos] in " ,、":
        pos += 1
    return pos


_BOUNDARY_AFTER_TOWN = set("0123456789 -" + HYPHENS + KANJI_NUM_CHARS + "番丁")


class _Normalizer:
    """One call's state (kept in an object so that the steps read as small methods)."""

    __slots__ = ("idx", "t", "k", "posmap", "res", "postal_in", "scope")

    def __init__(self, idx: AddressIndex, default_body: str | None):
        self.idx = idx
        self.scope = _scope(idx, default_body)

    # positions: matching happens in the key `k`; cutting in the prepared text `t`
    def tpos(self, kpos: int) -> int:
        if self.posmap is None:
            return kpos
        return self.posmap[min(kpos, len(self.posmap) - 1)]

    def town_match(self, code6s: tuple[str, ...], pos: int):
        """Every town of the given municipalities matching at `pos`: [(end, town id, quality)] of the best end."""
        k = self.k
        best_end, found = pos, []
        starts = [(pos, 0)]
        if k.startswith("大字", pos):
            starts.append((pos + 2, 1))
        elif k.startswith("字", pos):
            starts.append((pos + 1, 1))
        for code6 in code6s:
            d = self.idx.town_keys.get(code6)
            if not d:
                continue
            maxlen = self.idx.max_town_key.get(code6, 0)
            for start, penalty in starts:
                n = min(maxlen, len(k) - start)
                for length in range(n, 0, -1):
                    hits = d.get(k[start : start + length])
                    if hits is None:
                        continue
                    end = start + length
                    nxt = k[end : end + 1]
                    ok = [
                        (tid, q + penalty)
                        for tid, q in hits
                        if q < 2 or nxt == "" or nxt in _BOUNDARY_AFTER_TOWN
                    ]
                    if not ok:
                        continue
                    if end > best_end:
                        best_end, found = end, [(tid, q) for tid, q in ok]
                    elif end == best_end:
                        found.extend(ok)
                    break
        jo_end, jo_found = self.jo_match(code6s, pos)  # 東茨戸1-2-314 is 東茨戸一条二丁目, not 東茨戸
        if jo_found and jo_end > best_end:
            best_end, found = jo_end, jo_found
        if found:
            q0 = min(q for _t, q in found)
            found = [(t, q) for t, q in found if q == q0]
            seen, uniq = set(), []
            for t, q in found:
                if t not in seen:
                    seen.add(t)
                    uniq.append((t, q))
            found = uniq
        return best_end, found

    def jo_match(self, code6s, pos: int):
        """Towns numbered by 条/番町/線 written without the counter: 拓北6-2-6-12 → 拓北六条 (then 二丁目,
        rest 6-12); つつじが丘北3-4-17 → つつじが丘北3番町."""
        tables = [self.idx.town_keys.get(code6, {}) for code6 in code6s]
        end, hits = self.jo_probe(tables, pos)
        return end, [(tid, 3) for tid, _q in hits]

    def jo_probe(self, tables, pos: int):
        """(end, hits) of the first table holding P+N+条/番町/線(+name) for the P N written at `pos`."""
        m = _JO_OMITTED_RE.match(self.k, pos)
        if not m:
            return pos, ()
        k, after = self.k, m.end()
        for counter in ("条", "番町", "線"):
            # 北16西2-1-1 → 北16条西 (what follows the number may be part of the name)
            for extra in range(min(3, len(k) - after), -1, -1):
                tail = k[after : after + extra]
                if any(ch.isdigit() or ch in HYPHENS or ch == " " for ch in tail):
                    continue
                probe = m.group(1) + m.group(2) + counter + tail
                for table in tables:
                    hits = table.get(probe)
                    if hits:
                        end = after + extra
                        if end < len(k) and k[end] in HYPHENS:
                            end += 1
                        return end, hits
        return pos, ()

    def run(self, text) -> AddressResult:
        idx = self.idx
        if isinstance(text, (bytes, bytearray)):
            text = bytes(text).decode("utf-8", errors="replace")
        elif not isinstance(text, str):
            text = "" if text is None else str(text)
        res = self.res = AddressResult(input=text)
        raw = text[: MAX_INPUT_CHARS * 4]
        t = prepare(raw)
        if len(text) > MAX_INPUT_CHARS or len(t) > MAX_INPUT_CHARS:
            t = t[:MAX_INPUT_CHARS]
            res.corrections.append(Correction("truncated", f"{len(text)}文字", f"{MAX_INPUT_CHARS}文字"))
        if t != raw.strip() and len(t) <= MAX_INPUT_CHARS:
            res.corrections.append(Correction("width"))
        self.postal_in = None
        for _ in range(2):  # 〒 and a bracketed note may come in either order
            m = _POSTAL_RE.match(t)
            if m and self.postal_in is None:
                self.postal_in = m.group(1) + m.group(2)
                res.corrections.append(Correction("postal_code", m.group(0).strip(), ""))
                t = t[m.end() :].lstrip(_LEAD_JUNK)
            m = _LEAD_BRACKET_RE.match(t)
            if m:
                res.corrections.append(Correction("bracket", m.group(0).strip(), ""))
                t = t[m.end() :].lstrip(_LEAD_JUNK)
        self.t = t
        if not t:
            res.reason = "空の入力です" if not text.strip() else "住所として読める文字がありません"
            return res
        self.k, self.posmap = keyed_with_map(fold(t))
        if not any("\u3040" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in t[:64]):
            res.reason = "日本の住所として読める文字（漢字・かな）がありません"
            return res

        # prefecture options: full name, name without 都府県, none
        options: list[tuple[str | None, int, bool]] = []
        end, p2 = _longest(idx.pref_keys, self.k, 0, idx.max_pref_key)
        if p2:
            options.append((p2, end, False))
        end2, p2s = _longest(idx.pref_short_keys, self.k, 0, idx.max_pref_key)
        if p2s and not (p2 and end2 <= end):
            options.append((p2s, end2, True))
        options.append((None, 0, False))
        for p2, pos, short in options:
            pos = _skip_spaces(self.k, pos)
            table = idx.city_keys.get(p2, {}) if p2 else idx.city_keys_all
            cend, codes = _longest(table, self.k, pos, idx.max_city_key)
            if codes:
                if p2 is None and self.scope_codes_filter(codes):
                    codes = self.scope_codes_filter(codes)
                return self.resolve_city(p2, short, pos, cend, codes)
        # no municipality: a prefecture alone, or a town written without its municipality
        if options[0][0] is not None:
            p2, pos, short = options[0]
            return self.resolve_town_only(p2, short, _skip_spaces(self.k, pos))
        return self.resolve_town_only(None, False, 0)

    # -- scoping by default body / postal code --------------------------------------------------------
    def in_scope(self, code6: str) -> bool:
        scope = self.scope
        if scope is None:
            return True
        kind, value = scope
        if kind == "pref":
            return self.idx.bodies[code6][4] == value
        return code6 in value

    def scope_codes_filter(self, codes):
        if self.scope is None:
            return ()
        return tuple(c for c in codes if self.in_scope(c))

    # -- steps ----------------------------------------------------------------------------------------
    def set_pref(self, p2: str, pos: int, short: bool, inferred: bool) -> None:
        res = self.res
        name, _kana, code6 = self.idx.prefs[p2]
        res.pref, res.pref_code = name, code6
        if inferred:
            res.corrections.append(Correction("pref_added", "", name))
        elif short:
            res.corrections.append(Correction("pref_suffix", self.t[: self.tpos(pos)], name))
        else:
            written = self.t[: self.tpos(pos)].strip()
            if written != name:
                res.corrections.append(Correction("spelling", written, name))

    def expand(self, code6: str) -> tuple[str, ...]:
        """Town scopes of a body: a designated city's wards, else itself."""
        return self.idx.wards_of.get(code6, (code6,))

    def resolve_city(self, p2, short, pos, cend, codes) -> AddressResult:
        idx, res = self.idx, self.res
        after_city = _skip_spaces(self.k, cend)
        # try the town in every candidate; keep candidates where the longest town matched
        best_end, hits = after_city, []  # (code6 of candidate, town id, quality)
        for code6 in codes:
            end, found = self.town_match(self.expand(code6), after_city)
            if not found:
                continue
            if end > best_end:
                best_end, hits = end, [(code6, t, q) for t, q in found]
            elif end == best_end:
                hits += [(code6, t, q) for t, q in found]
        street, town_start = "", after_city
        # 京都の通り名: the town is the one after 上る/下る/東入/西入 (a 丁目 after the marker may belong to the
        # street, 上る2丁目下天神町, or be the town, 上る五町目242: both are tried)
        for street_end in self.street_ends(after_city):
            street_hits, street_best = [], street_end
            for code6 in codes:
                end, found = self.town_match(self.expand(code6), street_end)
                if found and end > street_best:
                    street_best, street_hits = end, [(code6, t, q) for t, q in found]
                elif found and end == street_best:
                    street_hits += [(code6, t, q) for t, q in found]
            if street_hits:
                best_end, hits = street_best, street_hits
                street = self.t[self.tpos(after_city) : self.tpos(street_end)].strip()
                town_start = street_end
                break
        if hits:
            hits = self.narrow_towns(hits)
            towns = {t for _c, t, _q in hits}
            if len(towns) > 1:
                return self.ambiguous(
                    p2,
                    pos,
                    short,
                    [
                        idx.prefs[idx.bodies[idx.towns[t][0]][4]][0]
                        + idx.bodies[idx.towns[t][0]][0]
                        + idx.towns[t][1]
                        for t in sorted(towns)
                    ],
                    "町字が複数の候補に当てはまります",
                )
            cand, tid, quality = hits[0]
            self.set_city_and_pref(p2, pos, short, cend, cand, idx.towns[tid][0])
            res.street = street
            return self.finish_town(tid, quality, town_start, best_end)
        # no town: the municipality itself
        before = codes
        codes = self.narrow_cities(codes, self.t[self.tpos(pos) : self.tpos(cend)].strip())
        lookalikes = [idx.prefs[idx.bodies[c][4]][0] + idx.bodies[c][0] for c in before if c not in codes]
        if len(codes) > 1:
            names = [idx.prefs[idx.bodies[c][4]][0] + idx.bodies[c][0] for c in codes]
            return self.ambiguous(
                p2, pos, short, names, "市区町村が複数の候補に当てはまります（都道府県を補ってください）"
            )
        self.set_city_and_pref(p2, pos, short, cend, codes[0], codes[0])
        res.level = 2
        res.postal_code = list(idx.city_postals.get(codes[0], ()))
        if lookalikes and len(codes) == 1:
            res.ambiguity = lookalikes
            res.reason = "表記どおりの市区町村としました（似た名前の候補があります）"
        self.read_rest(self.tpos(after_city), chome_town=False)
        if res.rest and not res.reason:
            res.reason = "町字が辞書にありません（市区町村まで一致）"
        return res

    def street_ends(self, pos: int) -> list[int]:
        """Kyoto style 通り名 (…通…上る/下る/東入/西入) before the town: possible ends (longest first)."""
        window = self.k[pos : pos + 48]
        digit = _HOUSE_NUMBER_RE.search(window)  # 5条通, 2丁目 belong to the street; 27番地 ends it
        if digit:
            window = window[: digit.start()]
        last = None
        for m in _STREET_MARK_RE.finditer(window):
            last = m
        if last is None:
            return []
        ends = [pos + last.end()]
        if last.group(1):
            ends.append(pos + last.start(1))
        return ends

    def street_end(self, pos: int) -> int:
        ends = self.street_ends(pos)
        return ends[0] if ends else 0

    def narrow_towns(self, hits):
        idx = self.idx
        if len({t for _c, t, _q in hits}) > 1 and self.postal_in:
            by_postal = [h for h in hits if any(p[0] == self.postal_in for p in idx.towns[h[1]][4])]
            if by_postal:
                hits = by_postal
        if len({t for _c, t, _q in hits}) > 1 and self.scope is not None:
            scoped = [h for h in hits if self.in_scope(idx.towns[h[1]][0])]
            if scoped:
                hits = scoped
        return hits

    def narrow_cities(self, codes, written: str = ""):
        idx = self.idx
        if len(codes) > 1 and written:
            # the spelling as written decides between look-alikes: 鹿嶋市 (茨城) / 鹿島市 (佐賀)
            exact = tuple(c for c in codes if idx.bodies[c][0] == written or idx.bodies[c][0].endswith("郡" + written)
                          or (idx.bodies[c][2] == "city_ward" and idx.bodies[c][0].endswith(written)))
            if exact:
                codes = exact
        if len(codes) > 1 and self.postal_in:
            entries = idx.postal.get(self.postal_in, ())
            muni = {e[0] for e in entries}
            by_postal = tuple(c for c in codes if c in muni or set(idx.wards_of.get(c, ())) & muni)
            if by_postal:
                codes = by_postal
        if len(codes) > 1 and self.scope is not None:
            scoped = tuple(c for c in codes if self.in_scope(c))
            if scoped:
                codes = scoped
        return codes

    def set_city_and_pref(self, p2, pos, short, cend, cand, body6) -> None:
        idx, res = self.idx, self.res
        display, _kana, kind, _parent, bp2 = idx.bodies[body6]
        if p2 is None:
            self.set_pref(bp2, pos, False, inferred=True)
        else:
            self.set_pref(p2, pos, short, inferred=False)
        res.city, res.lg_code = display, body6
        written = self.t[self.tpos(pos) : self.tpos(cend)].strip()
        cand_display = idx.bodies[cand][0]
        if body6 != cand:  # ward found through the town below a designated city
            res.corrections.append(Correction("ward_added", written, display))
        elif written != display:
            if kind == "city_ward" and display.endswith(written):
                res.corrections.append(Correction("city_added", written, display))
            elif display.endswith(written) and "郡" in display:
                res.corrections.append(Correction("county", written, display))
            else:
                res.corrections.append(Correction("spelling", written, cand_display))

    def ambiguous(self, p2, pos, short, names, reason) -> AddressResult:
        res = self.res
        if p2 is not None:
            self.set_pref(p2, pos, short, inferred=False)
            res.level = 1
        else:
            res.level = 0
        res.ambiguity = names[:20]
        res.reason = reason
        return res

    def resolve_town_only(self, p2, short, pos) -> AddressResult:
        """No municipality written: the town alone, nation-wide, within the prefecture or default body."""
        idx, res = self.idx, self.res
        k = self.k
        starts = [pos]
        if k.startswith("大字", pos):
            starts.append(pos + 2)
        best_end, tids = pos, ()
        for start in starts:
            end, found = _longest(idx.town_keys_all, k, start, idx.max_town_key_all)
            if found and end > best_end:
                best_end, tids = end, found
        quality = 0
        if not tids:  # 中の島2-2-5-20 → 中の島二条二丁目 (only when no town is written as such: 本町1-1 stays 本町)
            jo_end, jo_tids = self.jo_probe([idx.town_keys_all], pos)
            if jo_tids:
                best_end, tids, quality = jo_end, jo_tids, 3
        if tids and p2 is not None:
            tids = tuple(t for t in tids if idx.bodies[idx.towns[t][0]][4] == p2)
        if tids and len(tids) > 1:
            hits = self.narrow_towns([(idx.towns[t][0], t, 0) for t in tids])
            tids = tuple(dict.fromkeys(t for _c, t, _q in hits))
        if tids and len(tids) == 1 and (best_end - pos) >= 2:
            tid = tids[0]
            code6 = idx.towns[tid][0]
            if p2 is None:
                self.set_pref(idx.bodies[code6][4], 0, False, inferred=True)
            else:
                self.set_pref(p2, pos, short, inferred=False)
            res.city, res.lg_code = idx.bodies[code6][0], code6
            res.corrections.append(Correction("city_added", "", res.city))
            return self.finish_town(tid, quality, pos, best_end)
        if tids and len(tids) > 1:
            names = [
                idx.prefs[idx.bodies[idx.towns[t][0]][4]][0]
                + idx.bodies[idx.towns[t][0]][0]
                + idx.towns[t][1]
                for t in tids
            ]
            return self.ambiguous(
                p2, pos, short, names, "市区町村が書かれておらず、町字が複数の市区町村にあります"
            )
        if p2 is not None:
            self.set_pref(p2, pos, short, inferred=False)
            res.level = 1
            self.read_rest(self.tpos(pos), chome_town=False)
            res.reason = "市区町村が辞書にありません（都道府県まで一致）"
            return res
        res.level = 0
        res.reason = "都道府県・市区町村・町字のいずれも見つかりません"
        res.rest = self.t
        return res

    def finish_town(self, tid, quality, start, end) -> AddressResult:
        idx, res = self.idx, self.res
        code6, name, _kana, chome_flag, postals = idx.towns[tid]
        written = self.t[self.tpos(start) : self.tpos(end)].strip()
        if quality == 3:
            res.corrections.append(Correction("counter", written, name))
        elif quality >= 1 and (
            written.startswith("大字") or written.startswith("字") or name.startswith(("大字", "字"))
        ):
            res.corrections.append(Correction("oaza", written, name))
        elif quality == 2 or (name.endswith("町") and not written.endswith("町") and written):
            res.corrections.append(Correction("town_suffix", written, name))
        elif written and written != name and not res.street:
            kind = "numerals" if fold(written) != fold(name) and key(written) == key(name) else "spelling"
            res.corrections.append(Correction(kind, written, name))
        res.town = name
        res.level = 3
        tpos = _LEAD_RE.match(self.t, self.tpos(end)).end()
        chome = None
        # An explicit 丁目 always belongs to the town: KEN_ALL's `chome` flag is false for many towns that
        # have 丁目 in part (下作延, 二子 …), so it only decides a bare 2-1-2.
        m = _CHOME_RE.match(self.t, tpos)
        if not m and chome_flag:
            # 丁目 not written: 2-1-2 is 2丁目1番2号. A lone number (小石川1) stays a 番地: reading it as 丁目
            # would make the output (小石川1, from 小石川1番) read differently the second time.
            m = _CHOME_BARE_RE.match(self.t, tpos)
            if m and (number_value(m.group(1)) or 0) > _max_chome(postals):
                m = None
        if m:
            value = number_value(m.group(1))
            if value is not None and 0 < value < 100:
                chome, tpos = value, m.end()
                # 堺市 writes 三丁 (not 三丁目): keep 丁 when that is what was written
                counter = "丁" if m.group(0).endswith("丁") else "丁目"
                res.town = name + int_to_kanji(chome) + counter
        if chome is None and not res.street:  # 京都: 役人町中立売通堀川西入260 (town before the street)
            kend = end
            while kend < len(self.k) and self.k[kend] == " ":
                kend += 1
            street_end = self.street_end(kend)
            if street_end:
                res.street = self.t[self.tpos(kend) : self.tpos(street_end)].strip()
                tpos = self.tpos(street_end)
        nums = self.read_rest(tpos, chome_town=True)
        if res.rest:
            res.level = 4 if nums else 3
        first = int(nums[0]) if nums and nums[0].isdigit() and chome is None else None
        res.postal_code = _pick_postals(postals, chome, first)
        if res.building and tid in idx.buildings:
            by_building = _building_postal(idx.buildings[tid], res.building)
            if by_building:
                res.postal_code = by_building
        return res

    def read_rest(self, tpos: int, chome_town: bool) -> list[str]:
        """番地・号 → '1-2-3'; the rest → building. Returns the numbers read."""
        res, t = self.res, self.t
        i = tpos
        i = _LEAD_RE.match(t, i).end()
        koaza = ""
        lead = _NUMBER_RE.match(t, i)
        lead_is_number = bool(lead) and number_value(lead.group(1)) is not None
        if lead_is_number and not lead.group(1).isascii() and not chome_town:
            # no town matched: a kanji numeral is a number only before 番/号/hyphen (熊本市北区三十六 is a town)
            lead_is_number = bool(_SEP_RE.match(t, lead.end()))
        if lead_is_number and not lead.group(1).isascii():  # 二ツ堤, 十一番町: a numeral that starts a name
            sep = _SEP_RE.match(t, lead.end())
            after = sep.end() if sep else lead.end()
            lead_is_number = (
                after >= len(t)
                or t[after] in " (（"
                or bool(_ALNUM_RE.match(t, after) or _BUILDING_UNIT_RE.match(t, lead.end()))
            )
        m = None if lead_is_number else (_KOAZA_RE.match(t, i) or _KOAZA_KANJI_RE.match(t, i))  # 二ツ堤45-24: 二 is part of a name
        if m:
            koaza = m.group(1)
            i = m.end()
            while i < len(t) and t[i] == " ":
                i += 1
        nums: list[str] = []
        changed = False
        while i < len(t) and len(nums) < 6 and (lead_is_number or koaza or not lead):
            m = _NUMBER_RE.match(t, i) or (_ALNUM_RE.match(t, i) if nums else _LETTER_FIRST_RE.match(t, i))
            if not m:
                break
            token = m.group(1)
            value = number_value(token)
            if value is None and not (nums or token.isascii()):
                break
            unit = _BUILDING_UNIT_RE.match(t, m.end())
            if unit and not (unit.group(0) == "丁目" and chome_town and not nums):
                break  # 5階, 301号室: part of the building (丁目 after a town without 丁目: 紀尾井町1丁目3 → 1-3)
            s = _SEP_RE.match(t, m.end())
            nxt = (_NUMBER_RE.match(t, s.end()) or _ALNUM_RE.match(t, s.end())) if s else None
            after = s.end() if s else m.end()
            if not token.isascii() and not nxt and after < len(t) and t[after] not in _LEAD_JUNK + "(（":
                break  # a kanji numeral followed by a name (二本木町, 十一番町) is part of that name
            if not token.isascii():
                changed = True
            if value is None:  # a letter and a number: A22, イ22, Ａ二二 → A22; anything else ends the number
                tail = number_value(token[1:]) if len(token) > 1 else None
                if token[0] in KANJI_NUM_CHARS or token[0].isdigit() or (len(token) > 1 and tail is None):
                    break
                token = token[0] + ("" if tail is None else str(tail))
            nums.append(str(value) if value is not None else token)
            i = m.end()
            if not s:
                break
            if s.group(1).strip() != "-":
                changed = True
            if not nxt:
                # trailing 番地 / 号 / hyphen: consumed, the rest is the building
                if not any(ch in s.group(1) for ch in "のノ之丿."):
                    i = s.end()
                break
            i = s.end()
        rest_text = t[i:].strip().lstrip(" ," + HYPHENS).strip()  # 6-1・2 keeps its ・
        if nums:  # a stray 番地/番/号 after the number (1-番) is not a building
            rest_text = _STRAY_SEP_RE.sub("", rest_text)
        if nums:
            res.rest = koaza + "-".join(nums)
            res.building = rest_text
            if changed:
                res.corrections.append(Correction("house_number", t[tpos:i].strip(), res.rest))
        else:
            res.rest = (koaza + rest_text) if koaza else rest_text
        return nums


def _max_chome(postals) -> int:
    """Highest 丁目 a bare number may mean: the KEN_ALL ranges when they say so, else _MAX_BARE_CHOME."""
    highest = max((max(ch) for _p, ch, _b in postals if ch), default=0)
    return max(highest, _MAX_BARE_CHOME)


def _pick_postals(postals, chome, banchi) -> list[str]:
    """Postal codes of a town, narrowed by 丁目 or 番地 when KEN_ALL splits the town by range."""
    if len(postals) == 1:
        return [postals[0][0]]
    chosen = []
    if chome is not None:
        chosen = [
            p
            for p, ch, _b in postals
            if ch and any(ch[i] <= chome <= ch[i + 1] for i in range(0, len(ch), 2))
        ]
    elif banchi is not None:
        chosen = [
            p for p, _c, b in postals if b and any(b[i] <= banchi <= b[i + 1] for i in range(0, len(b), 2))
        ]
    if not chosen and (chome is not None or banchi is not None):
        chosen = [p for p, ch, b in postals if not ch and not b]
    if not chosen:
        chosen = [p for p, _c, _b in postals]
    return list(dict.fromkeys(chosen))


_FLOOR_IN_BUILDING = re.compile(r"(?:([0-9]+)\s*(?:階|F))|(?:地下|B[0-9])")


def _building_postal(entries, building: str) -> list[str]:
    """A building with its own postal codes per floor (KEN_ALL 高層ビル): pick the floor's code."""
    from kiban.engines.address.text import key as make_key

    bkey = make_key(building)
    names = [e for e in entries if bkey.startswith(e[0])]
    if not names:
        return []
    m = _FLOOR_IN_BUILDING.search(
        building[len(names[0][1]) :] if building.startswith(names[0][1]) else building
    )
    floor = None
    if m:
        floor = f"{m.group(1)}階" if m.group(1) else "地階・階層不明"
    if floor:
        hit = [e[3] for e in names if e[2] == floor]
        if hit:
            return hit
    unknown = [e[3] for e in names if e[2] == "地階・階層不明"]
    return unknown or [names[0][3]]


def _scope(idx: AddressIndex, default_body: str | None):
    """`default_body` (6- or 5-digit code of a prefecture, municipality or designated city) → a scope."""
    if not default_body:
        return None
    from kiban.engines.address.errors import AddressError
    from kiban.orgs.source import InvalidOrgCode, normalize_code

    try:
        code = normalize_code(default_body)
    except InvalidOrgCode as exc:
        raise AddressError(exc.message_ja, exc.message_en, field="default_body", rule=exc.rule) from None
    if code[2:5] == "000" and code[:2] in idx.prefs:
        return ("pref", code[:2])
    if code in idx.bodies:
        return ("codes", frozenset((code, *idx.wards_of.get(code, ()))))
    raise AddressError(
        f"既定の団体コード {code} は辞書にありません",
        f"Default body {code} is not in the index",
        field="default_body",
        rule="unknown_body",
    )


def normalize(text, default_body: str | None = None, index: AddressIndex | None = None) -> AddressResult:
    """住所を正規化する: one typed address → AddressResult. Never raises on bad text (level 0 + reason).

    `default_body`: code of the body that inputs without prefecture/municipality belong to (a ward alone,
    a town alone); it only decides between candidates, it never overrides what is written.
    A wrong `default_body` raises AddressError (it is configuration, not data).
    """
    worker = _Normalizer(index or load_index(), default_body)
    try:
        return worker.run(text)
    except Exception as exc:  # pragma: no cover - last guard: a bug must not stop a batch of a million rows
        res = AddressResult(input=text if isinstance(text, str) else repr(text)[:200])
        res.reason = f"内部エラーのため正規化できませんでした: {type(exc).__name__}"
        return res


class Normalizer:
    """A reusable normaliser bound to one index and default body (for batches: no per-row set-up)."""

    def __init__(self, default_body: str | None = None, index: AddressIndex | None = None):
        self.worker = _Normalizer(index or load_index(), default_body)

    def __call__(self, text) -> AddressResult:
        try:
            return self.worker.run(text)
        except Exception as exc:  # pragma: no cover - see normalize()
            res = AddressResult(input=text if isinstance(text, str) else repr(text)[:200])
            res.reason = f"内部エラーのため正規化できませんでした: {type(exc).__name__}"
            return res
