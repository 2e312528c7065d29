"""Cell styles: the immutable `Style` a run of text carries, and SGR parsing/rendering.

Colours are plain ints so styles hash and compare fast: `DEFAULT` (-1) is the
terminal's default colour, 0-255 the xterm palette, and `RGB_FLAG | 0xRRGGBB` a
truecolour value. Styles are interned per emulator (see `StyleTable`), so a line
stores one small id per cell and an SGR sequence that was seen before costs one
dict lookup.
"""

from __future__ import annotations

from typing import NamedTuple

DEFAULT = -1
RGB_FLAG = 1 << 24

# Attribute bits of Style.flags.
BOLD = 1
DIM = 2
ITALIC = 4
BLINK = 8
REVERSE = 16
HIDDEN = 32
STRIKE = 64
OVERLINE = 128

# Underline styles (SGR 4:n).
UNDERLINE_NONE = 0
UNDERLINE_SINGLE = 1
UNDERLINE_DOUBLE = 2
UNDERLINE_CURLY = 3
UNDERLINE_DOTTED = 4
UNDERLINE_DASHED = 5

# Tags a background colour in a cache key so it never equals a foreground one.
_BG_KEY = 1 << 30

# Distinct styles one emulator keeps (a truecolour gradient per cell is the worst case).
MAX_STYLES = 200_000

# Parameters are clamped so hostile input cannot make SGR parsing expensive.
_MAX_SGR_PARAMS = 30  # xterm keeps 30 parameters (NPARAM) and ignores the rest


class Style(NamedTuple):
    """The look of one cell: colours, attribute bits, underline style, hyperlink."""

    fg: int = DEFAULT
    bg: int = DEFAULT
    flags: int = 0
    underline: int = UNDERLINE_NONE
    underline_color: int = DEFAULT
    link: str | None = None

    @property
    def bold(self) -> bool:
        return bool(self.flags & BOLD)

    @property
    def dim(self) -> bool:
        return bool(self.flags & DIM)

    @property
    def italic(self) -> bool:
        return bool(self.flags & ITALIC)

    @property
    def reverse(self) -> bool:
        return bool(self.flags & REVERSE)

    @property
    def strike(self) -> bool:
        return bool(self.flags & STRIKE)


DEFAULT_STYLE = Style()


def rgb(r: int, g: int, b: int) -> int:
    """Encode a truecolour value."""
    return RGB_FLAG | ((r & 0xFF) << 16) | ((g & 0xFF) << 8) | (b & 0xFF)


def color_to_hex(color: int) -> str | None:
    """`#rrggbb` for a truecolour or palette colour, None for the default colour."""
    if color == DEFAULT:
        return None
    if color & RGB_FLAG:
        return f"#{color & 0xFFFFFF:06x}"
    return f"#{PALETTE[color]:06x}"


def _build_palette() -> list[int]:
    # xterm's default 256-colour palette: 16 system colours, a 6x6x6 cube, 24 greys.
    base = [
        0x000000, 0xCD0000, 0x00CD00, 0xCDCD00, 0x0000EE, 0xCD00CD, 0x00CDCD, 0xE5E5E5,
        0x7F7F7F, 0xFF0000, 0x00FF00, 0xFFFF00, 0x5C5CFF, 0xFF00FF, 0x00FFFF, 0xFFFFFF,
    ]  # fmt: skip
    steps = [0, 95, 135, 175, 215, 255]
    cube = [(steps[r] << 16) | (steps[g] << 8) | steps[b]
            for r in range(6) for g in range(6) for b in range(6)]  # fmt: skip
    grey = [((8 + 10 * i) * 0x010101) for i in range(24)]
    return base + cube + grey


PALETTE = _build_palette()


def _int(part: str) -> int:
    if not part:
        return 0
    if part.isdigit() and len(part) <= 9:
        return int(part)
    digits = "".join(ch for ch in part if ch.isdigit())[:9]
    return int(digits) if digits else 0


def _extended_color(values: list[int]) -> int | None:
    """Decode the values after 38/48/58: [5, n] or [2, (cs,) r, g, b]."""
    if not values:
        return None
    if values[0] == 5 and len(values) >= 2:
        return values[1] if 0 <= values[1] <= 255 else None
    if values[0] == 2 and len(values) >= 4:
        r, g, b = values[-3:] if len(values) >= 5 else values[1:4]
        return rgb(min(r, 255), min(g, 255), min(b, 255))
    return None


def apply_sgr(style: Style, params: str) -> Style:
    """Return `style` changed by the SGR parameter string `params` (the part before `m`).

    Handles semicolon and colon forms (`38;2;r;g;b`, `38:2::r:g:b`, `4:3`), 16, 256
    and truecolour, underline styles and colours. Unknown codes are ignored.
    """
    fg, bg, flags, underline, ul_color, link = style
    if not params:
        return Style(DEFAULT, DEFAULT, 0, 0, DEFAULT, link)
    parts = params.split(";")[:_MAX_SGR_PARAMS]
    i = 0
    n = len(parts)
    while i < n:
        part = parts[i]
        i += 1
        if ":" in part:
            # Colon sub-parameters belong to this one code (ITU T.416 form).
            sub = [_int(p) for p in part.split(":")[:8]]
            code = sub[0]
            if code in (38, 48, 58):
                rest = sub[1:]
                # `38:2::r:g:b` has an empty colour-space id; `38:2:r:g:b` does not.
                if rest and rest[0] == 2 and len(rest) >= 5:
                    color: int | None = rgb(min(rest[-3], 255), min(rest[-2], 255),
                                            min(rest[-1], 255))  # fmt: skip
                else:
                    color = _extended_color(rest)
                if color is not None:
                    if code == 38:
                        fg = color
                    elif code == 48:
                        bg = color
                    else:
                        ul_color = color
            elif code == 4:
                underline = min(sub[1], UNDERLINE_DASHED) if len(sub) > 1 else UNDERLINE_SINGLE
            continue
        code = _int(part)
        if code == 0:
            fg, bg, flags, underline, ul_color = DEFAULT, DEFAULT, 0, 0, DEFAULT
        elif 30 <= code <= 37:
            fg = code - 30
        elif 40 <= code <= 47:
            bg = code - 40
        elif 90 <= code <= 97:
            fg = code - 90 + 8
        elif 100 <= code <= 107:
            bg = code - 100 + 8
        elif code == 39:
            fg = DEFAULT
        elif code == 49:
            bg = DEFAULT
        elif code in (38, 48, 58):
            # Semicolon form: 38;5;n or 38;2;r;g;b consume the following fields.
            if i < n and parts[i] == "5":
                color = _extended_color([5, _int(parts[i + 1])]) if i + 1 < n else None
                i += 2
            elif i < n and parts[i] == "2":
                color = _extended_color([2, *(_int(p) for p in parts[i + 1 : i + 4])])
                i += 4
            else:
                color = None
            if color is not None:
                if code == 38:
                    fg = color
                elif code == 48:
                    bg = color
                else:
                    ul_color = color
        elif code == 1:
            flags |= BOLD
        elif code == 2:
            flags |= DIM
        elif code == 3:
            flags |= ITALIC
        elif code == 4:
            underline = UNDERLINE_SINGLE
        elif code in (5, 6):
            flags |= BLINK
        elif code == 7:
            flags |= REVERSE
        elif code == 8:
            flags |= HIDDEN
        elif code == 9:
            flags |= STRIKE
        elif code == 21:
            underline = UNDERLINE_DOUBLE
        elif code == 22:
            flags &= ~(BOLD | DIM)
        elif code == 23:
            flags &= ~ITALIC
        elif code == 24:
            underline = UNDERLINE_NONE
        elif code == 25:
            flags &= ~BLINK
        elif code == 27:
            flags &= ~REVERSE
        elif code == 28:
            flags &= ~HIDDEN
        elif code == 29:
            flags &= ~STRIKE
        elif code == 53:
            flags |= OVERLINE
        elif code == 55:
            flags &= ~OVERLINE
        elif code == 59:
            ul_color = DEFAULT
    return Style(fg, bg, flags, underline, ul_color, link)


class SgrDelta(NamedTuple):
    """What one SGR parameter string does to any style, computed once per string.

    Colour fields are the value set, or None when the string leaves them alone;
    flags become `(flags & keep) | set_bits`. This makes an SGR never seen with
    the current style cost one small tuple build instead of a parse.
    """

    fg: int | None
    bg: int | None
    underline: int | None
    underline_color: int | None
    keep: int
    set_bits: int
    # True when the string sets only foreground and/or background colours.
    colours_only: bool = False

    @classmethod
    def compile(cls, params: str) -> SgrDelta:
        # Apply the string to two probe styles with different sentinels: a field
        # that comes out equal in both was set by the string; otherwise it was kept.
        a = apply_sgr(Style(-2, -2, 0, 6, -2), params)
        b = apply_sgr(Style(-3, -3, 0xFF, 7, -3), params)
        fg = a.fg if a.fg == b.fg else None
        bg = a.bg if a.bg == b.bg else None
        underline = a.underline if a.underline == b.underline else None
        ul_color = a.underline_color if a.underline_color == b.underline_color else None
        colours_only = (
            (fg is not None or bg is not None)
            and b.flags == 0xFF
            and not a.flags
            and underline is None
            and ul_color is None
        )
        return cls(fg, bg, underline, ul_color, b.flags, a.flags, colours_only)

    def apply(self, style: Style) -> Style:
        """The style after this SGR."""
        return Style(
            style.fg if self.fg is None else self.fg,
            style.bg if self.bg is None else self.bg,
            (style.flags & self.keep) | self.set_bits,
            style.underline if self.underline is None else self.underline,
            style.underline_color if self.underline_color is None else self.underline_color,
            style.link,
        )


def _color_sgr(color: int, base: int) -> str:
    """SGR fragment selecting `color` as foreground (30), background (40) or underline (50)."""
    if color & RGB_FLAG:
        return f"{base + 8};2;{(color >> 16) & 0xFF};{(color >> 8) & 0xFF};{color & 0xFF}"
    if base == 50:
        return f"58;5;{color}"  # underline colours have no short 16-colour form
    if color < 8:
        return str(base + color)
    if color < 16:
        return str(base + 60 + color - 8)
    return f"{base + 8};5;{color}"


_FLAG_CODES = ((BOLD, "1"), (DIM, "2"), (ITALIC, "3"), (BLINK, "5"), (REVERSE, "7"),
               (HIDDEN, "8"), (STRIKE, "9"), (OVERLINE, "53"))  # fmt: skip


def style_to_sgr(style: Style) -> str:
    """The full SGR sequence that sets `style` from any state (starts with a reset)."""
    codes = ["0"]
    for bit, code in _FLAG_CODES:
        if style.flags & bit:
            codes.append(code)
    if style.underline == UNDERLINE_SINGLE:
        codes.append("4")
    elif style.underline:
        codes.append(f"4:{style.underline}")
    if style.fg != DEFAULT:
        codes.append(_color_sgr(style.fg, 30))
    if style.bg != DEFAULT:
        codes.append(_color_sgr(style.bg, 40))
    if style.underline_color != DEFAULT:
        codes.append(_color_sgr(style.underline_color, 50))
    return "\x1b[" + ";".join(codes) + "m"


class StyleTable:
    """Interns styles as one-character ids, so a line's styles are a `str` or list of them.

    Id `"\\x00"` is always the default style. `sgr(id, params)` caches the result of
    applying an SGR parameter string to a style: repeated SGR costs a dict lookup.
    """

    def __init__(self) -> None:
        self.styles: list[Style] = [DEFAULT_STYLE]
        self.by_id: dict[str, Style] = {"\x00": DEFAULT_STYLE}  # `get` as one dict lookup
        self._ids: dict[Style, str] = {DEFAULT_STYLE: "\x00"}
        self._sgr_cache: dict[tuple[str, str], str] = {}
        self._deltas: dict[str, SgrDelta] = {}
        self._erase_cache: dict[str, str] = {"\x00": "\x00"}
        # Second-level SGR cache for strings that set both colours (ratatui-style
        # `38;5;N;48;5;M`): the result depends only on the previous style's
        # attributes, so it is keyed by their class, not by the previous style.
        self._classes: list[int] = [0]
        self._class_ids: dict[tuple[int, int, int, str | None], int] = {(0, 0, DEFAULT, None): 0}
        self._colour_cache: dict[tuple[int, int, str], str] = {}
        # SGR strings known to set only colours, and `after`'s results for them.
        self._colour_bodies: set[str] = set()
        self._recoloured: dict[tuple[int, int, int], str] = {}

    def intern(self, style: Style) -> str:
        """The id of `style`, adding it when new."""
        sid = self._ids.get(style)
        if sid is None:
            index = len(self.styles)
            if index >= MAX_STYLES:
                # A flood of distinct truecolour styles must not grow memory without
                # bound: past the cap, new styles fall back to the default style.
                return "\x00"
            # Skip the surrogate range so ids stay encodable if ever written out.
            sid = chr(index if index < 0xD800 else index + 0x800)
            self.styles.append(style)
            self._ids[style] = sid
            self.by_id[sid] = style
            attrs = (style.flags, style.underline, style.underline_color, style.link)
            cls = self._class_ids.get(attrs)
            if cls is None:
                cls = self._class_ids[attrs] = len(self._class_ids)
            self._classes.append(cls)
        return sid

    def get(self, sid: str) -> Style:
        """The style behind an id."""
        code = ord(sid)
        return self.styles[code if code < 0xD800 else code - 0x800]

    def sgr(self, sid: str, params: str) -> str:
        """Id of the style `sid` after the SGR parameters `params`."""
        key = (sid, params)
        new = self._sgr_cache.get(key)
        if new is not None:
            return new
        delta = self._deltas.get(params) or self.delta(params)
        if delta.colours_only:
            # The result depends on the previous style only through what the string
            # leaves alone: its attribute class, plus the colour it does not set.
            code = ord(sid)
            index = code if code < 0xD800 else code - 0x800
            cls = self._classes[index]
            if delta.fg is None:
                key2: tuple[int, int, str] = (cls, self.styles[index].fg, params)
            elif delta.bg is None:
                key2 = (cls, self.styles[index].bg | _BG_KEY, params)
            else:
                key2 = (cls, 0, params)
            new = self._colour_cache.get(key2)
            if new is None:
                new = self.intern(delta.apply(self.get(sid)))
                if len(self._colour_cache) > 65536:
                    self._colour_cache.clear()
                self._colour_cache[key2] = new
        else:
            new = self.intern(delta.apply(self.get(sid)))
        if len(self._sgr_cache) > 65536:
            self._sgr_cache.clear()
        self._sgr_cache[key] = new
        return new

    def delta(self, params: str) -> SgrDelta:
        """The compiled effect of one SGR parameter string (cached)."""
        delta = self._deltas.get(params)
        if delta is None:
            delta = SgrDelta.compile(params)
            if len(self._deltas) > 16384:
                self._deltas.clear()
                self._colour_bodies.clear()
            self._deltas[params] = delta
            if delta.colours_only:
                self._colour_bodies.add(params)
        return delta

    def after(self, sid: str, bodies: list[str]) -> str:
        """Id of the style after the SGR parameter strings `bodies`, in order, from `sid`.

        Walks back from the end while the SGRs only set colours: the last
        foreground and background set win, so a full-screen row of colour changes
        (ratatui's) costs one pass of dict lookups, not a style per change.
        """
        fg: int | None = None
        bg: int | None = None
        deltas = self._deltas
        if self._colour_bodies.issuperset(bodies):
            # Only colours (one C-level check): the last of each wins, found from the end.
            for body in reversed(bodies):
                delta = deltas[body]
                if fg is None:
                    fg = delta.fg
                if bg is None:
                    bg = delta.bg
                if fg is not None and bg is not None:
                    break
            code = ord(sid)
            index = code if code < 0xD800 else code - 0x800
            style = self.styles[index]
            # Keyed by what the colours leave alone (the attribute class), as in `sgr`.
            key = (
                self._classes[index],
                style.fg if fg is None else fg,
                style.bg if bg is None else bg,
            )
            new = self._recoloured.get(key)
            if new is None:
                new = self.intern(style._replace(fg=key[1], bg=key[2]))
                if len(self._recoloured) > 65536:
                    self._recoloured.clear()
                self._recoloured[key] = new
            return new
        i = len(bodies) - 1
        while i >= 0:
            delta = deltas.get(bodies[i]) or self.delta(bodies[i])
            if not delta.colours_only:
                break
            if fg is None:
                fg = delta.fg
            if bg is None:
                bg = delta.bg
            i -= 1
        cache = self._sgr_cache
        for j in range(i + 1):
            body = bodies[j]
            new = cache.get((sid, body))
            sid = new if new is not None else self.sgr(sid, body)
        if fg is None and bg is None:
            return sid
        style = self.get(sid)
        return self.intern(
            style._replace(fg=style.fg if fg is None else fg, bg=style.bg if bg is None else bg)
        )

    def with_link(self, sid: str, link: str | None) -> str:
        """Id of the style `sid` with its hyperlink set (OSC 8)."""
        return self.intern(self.get(sid)._replace(link=link))

    def erase(self, sid: str) -> str:
        """Id of the style erased cells take: the current background only (xterm BCE)."""
        new = self._erase_cache.get(sid)
        if new is None:
            bg = self.get(sid).bg
            new = self.intern(Style(bg=bg)) if bg != DEFAULT else "\x00"
            self._erase_cache[sid] = new
        return new
