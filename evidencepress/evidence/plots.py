"""Pictures of a topic's cases: a swimmer plot and a response chart, as self-contained SVG.

Why matplotlib (and not Vega-Lite/Altair): it draws the SVG on the server, so a page needs no
JavaScript to show a chart, the public site's strict Content-Security-Policy stays strict, and
static exports and PDFs get the same picture. Vega-Lite would need its runtime in the browser
(or a Node renderer on the server) to turn a specification into a picture.

What every chart here guarantees (tests/evidence/test_plots.py):
- a <title> and a <desc> (a plain-language description) linked by aria-labelledby/-describedby,
  and a data-table alternative with the same numbers (`swimmer_rows`, `response_rows`);
- readable in greyscale: response categories differ by pattern (hatching) and by the shade of
  colour-blind-safe colours (Okabe & Ito, 2008), and the markers differ by shape;
- no scripts, no event handlers, no style="" attributes and no <style> element (styles become
  SVG presentation attributes, which a strict Content-Security-Policy allows when inlined);
- element ids are prefixed per chart, so that several charts can share one page;
- identical input gives identical bytes: a fixed `svg.hashsalt` and no dates in the metadata.

Rendering goes through matplotlib's SVG backend on a `Figure` (never pyplot and its global
state, never a GUI). Matplotlib's settings are global, so rendering is serialised by a lock.
Pure: imports nothing from Django.
"""

from __future__ import annotations

import hashlib
import io
import re
import textwrap
import threading
from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

import matplotlib
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .notices import DEMO_LABEL
from .synthesis import CaseData, Distribution, Proportion, Synthesis, neutral_vocabulary
from .vocabulary import UNKNOWN, Vocabulary

DEMO_NOTICE = DEMO_LABEL
# Okabe–Ito colours, chosen so that each category also has its own lightness and pattern: the
# topic's outcomes take them in their order (most favourable first), "not reported" is grey.
PALETTE: tuple[tuple[str, str], ...] = (
    ("#0072B2", ""),
    ("#56B4E9", "///"),
    ("#E69F00", "|||"),
    ("#D55E00", "xxx"),
    ("#CC79A7", "---"),
    ("#F0E442", "..."),
    ("#000000", "ooo"),
)
NOT_REPORTED_STYLE = ("#BBBBBB", "\\\\\\")


def response_labels(vocabulary: Vocabulary | None = None) -> dict[str, str]:
    """The topic's outcome labels; "not reported" says what was not reported, as the legend
    stands alone."""
    vocabulary = vocabulary or neutral_vocabulary()
    return vocabulary.labels_for("response") | {UNKNOWN: "Response not reported"}


def response_styles(vocabulary: Vocabulary | None = None) -> dict[str, tuple[str, str]]:
    """(colour, hatch) of each of the topic's outcomes, in their order."""
    values = [v for v in (vocabulary or neutral_vocabulary()).response_values if v != UNKNOWN]
    styles = {value: PALETTE[index % len(PALETTE)] for index, value in enumerate(values)}
    return styles | {UNKNOWN: NOT_REPORTED_STYLE}


def any_response_label(vocabulary: Vocabulary | None = None) -> str:
    """ "Any response (complete or partial)": the outcomes that count, in the topic's words."""
    return (vocabulary or neutral_vocabulary()).any_response_label()


# Line hatches only: dotted and circled hatches make SVG files a hundred times larger.
ANY_RESPONSE_STYLE = ("#009E73", "++")
# A topic's outcomes as drawn: (value, label, colour, hatch), "not reported" last; hashable, so
# that it is part of the drawn charts' cache keys.
Words = tuple[tuple[str, str, str, str], ...]


def outcome_words(vocabulary: Vocabulary | None = None) -> Words:
    """The topic's outcomes with their labels and styles, in the vocabulary's order."""
    labels, styles = response_labels(vocabulary), response_styles(vocabulary)
    order = [v for v in (vocabulary or neutral_vocabulary()).response_values if v != UNKNOWN]
    return tuple((v, labels[v], *styles[v]) for v in [*order, UNKNOWN])


# Marker shapes for events on a patient's bar: (matplotlib marker, face colour, legend label).
MARKERS: dict[str, tuple[str, str, str]] = {
    "response": ("^", "#FFFFFF", "Response seen"),
    "recurrence": ("X", "#000000", "Recurrence"),
    "death": ("s", "#000000", "Died"),
    "stopped": ("D", "#FFFFFF", "Treatment stopped early"),
}
SWIMMER_LIMIT = 80  # more bars than this cannot be read; the table lists everyone
WEEKS_PER_MONTH = 365.25 / 12 / 7
FONT_SIZE = 11
WIDTH_INCHES = 5.2  # 374pt: on a 360px phone screen, 11pt text still shows at about 10px

_NO_DISTRIBUTION = Distribution(0, None, None, None, None, None)
_render_lock = threading.Lock()
_RC: dict[Any, Any] = {
    "svg.hashsalt": "evidencepress",
    # Text as paths: the layout is computed with DejaVu Sans, so the picture must use exactly
    # that font whatever the reader has installed (a wider fallback font would be cut off).
    # Screen readers get the <title>, the <desc> and the data table instead.
    "svg.fonttype": "path",
    "font.size": FONT_SIZE,
    "font.family": "DejaVu Sans",
    "hatch.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _months(weeks: Decimal | float | None) -> float | None:
    return None if weeks is None else float(weeks) / WEEKS_PER_MONTH


def _number(value: Decimal | float | None) -> float | None:
    if value is None:
        return None
    return round(float(value), 1)


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def _died(case: CaseData, died: tuple[str, ...]) -> bool | None:
    """Whether the case died (`died`: the topic's statuses that mean so); None if unknown."""
    if case.status_at_last_follow_up == UNKNOWN:
        return None
    return case.status_at_last_follow_up in died


def _case_name(case: CaseData) -> str:
    return f"{case.label} (demo)" if case.is_demo else case.label


def _end(case: CaseData) -> float:
    treated = _months(case.regimen_duration_weeks) or 0.0
    return max(treated, float(case.follow_up_months or 0))


def _swimmer_order(cases: Sequence[CaseData]) -> list[CaseData]:
    """Longest course first (the usual swimmer-plot order), then by label; stable for ties."""
    return sorted(cases, key=lambda case: (-_end(case), case.label, case.publication_id))


def swimmer_rows(
    cases: Sequence[CaseData], *, vocabulary: Vocabulary | None = None
) -> list[dict[str, Any]]:
    """One row per patient with the data the swimmer plot draws, in the plot's order.

    Keys are column headings; values are plain strings and numbers, None when not reported.
    Outcomes are labelled in the topic's words (`vocabulary`; the neutral default when None).
    """
    labels = response_labels(vocabulary)
    return [
        {
            "Case": case.label,
            "Demonstration data": "yes" if case.is_demo else "no",
            "Best response": labels.get(case.response, case.response),
            "Weeks of treatment": _number(case.regimen_duration_weeks),
            "Weeks to response": _number(case.time_to_response_weeks),
            "Follow-up (months)": _number(case.follow_up_months),
            "Recurrence": _yes_no(case.recurrence),
            "Months to recurrence": _number(case.recurrence_months),
            "Treatment stopped early": _yes_no(case.treatment_stopped_early),
            "Died": _yes_no(_died(case, (vocabulary or neutral_vocabulary()).died_statuses)),
        }
        for case in _swimmer_order(cases)
    ]


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def _share_text(share: Proportion) -> str:
    if share.total == 0:
        return "no cases"
    return (
        f"{share.count} of {share.total} ({_percent(share.proportion)}; "
        f"95% CI {_percent(share.ci_low)} to {_percent(share.ci_high)})"
    )


def _response_items(
    synthesis: Synthesis, words: Words, any_label: str
) -> list[tuple[str, str, Proportion]]:
    labels = {value: label for value, label, _, _ in words}
    items = [(name, labels.get(name, name), share) for name, share in synthesis.responses.items()]
    items.append(("any", any_label, synthesis.any_response))
    return items


def response_rows(
    synthesis: Synthesis, *, vocabulary: Vocabulary | None = None
) -> list[dict[str, Any]]:
    """One row per response category (and any response), with count, proportion and interval.

    The keys "Response" and "Patients" are headings for a table; the rest are plain numbers
    (proportions between 0 and 1, None when there are no cases).
    """
    return [
        {
            "Response": label,
            "Patients": _share_text(share),
            "key": key,
            "count": share.count,
            "total": share.total,
            "proportion": share.proportion,
            "ci_low": share.ci_low,
            "ci_high": share.ci_high,
        }
        for key, label, share in _response_items(
            synthesis, outcome_words(vocabulary), any_response_label(vocabulary)
        )
    ]


# --- SVG ---------------------------------------------------------------------------------------

_STYLE_ATTRIBUTE = re.compile(r' style="([^"]*)"')
_STYLE_ELEMENT = re.compile(r"\s*<style[^>]*>.*?</style>", re.DOTALL)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)
_EMPTY_DEFS = re.compile(r"\s*<defs>\s*</defs>")
_ID = re.compile(r'(<[^<>]*?\s)id="([^"]+)"')
_REFERENCE = re.compile(r'(url\(#|xlink:href="#)([^)"]+)')


def _presentation_attributes(match: re.Match[str]) -> str:
    attributes = []
    for declaration in match.group(1).split(";"):
        name, _, value = declaration.partition(":")
        if name.strip() and value.strip():
            attributes.append(f'{name.strip()}="{value.strip()}"')
    return " " + " ".join(attributes) if attributes else ""


def _finish_svg(raw: str, *, kind: str, title: str, description: str) -> str:
    """Make matplotlib's SVG accessible, CSP-safe, embeddable and stable."""
    svg = raw[raw.index("<svg") :]
    svg = _METADATA.sub("", svg)
    svg = _STYLE_ELEMENT.sub("", svg)  # its rules move to the root element below
    svg = _EMPTY_DEFS.sub("", svg)
    svg = _STYLE_ATTRIBUTE.sub(_presentation_attributes, svg)
    prefix = f"{kind}-{hashlib.sha256(svg.encode()).hexdigest()[:8]}-"
    svg = _ID.sub(lambda m: f'{m.group(1)}id="{prefix}{m.group(2)}"', svg)
    svg = _REFERENCE.sub(lambda m: f"{m.group(1)}{prefix}{m.group(2)}", svg)
    head_end = svg.index(">") + 1
    head = svg[:head_end].replace(
        "<svg ",
        f'<svg role="img" aria-labelledby="{prefix}title" aria-describedby="{prefix}desc" '
        'stroke-linejoin="round" stroke-linecap="butt" ',
        1,
    )
    accessible = (
        f'\n <title id="{prefix}title">{escape(title)}</title>'
        f'\n <desc id="{prefix}desc">{escape(description)}</desc>'
    )
    return head + accessible + svg[head_end:].rstrip() + "\n"


def _render(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return buffer.getvalue()


def _draw(build: Any, *args: Any) -> str:
    with _render_lock, matplotlib.rc_context(_RC):
        figure = build(*args)
        return _render(figure)


def _swimmer_figure(
    shown: list[CaseData], total: int, title: str, words: Words, died: tuple[str, ...]
) -> Figure:
    styles = {value: (colour, hatch) for value, _, colour, hatch in words}
    labels = {value: label for value, label, _, _ in words}
    rows = max(len(shown), 1)
    figure = Figure(figsize=(WIDTH_INCHES, 3.2 + 0.32 * rows), layout="constrained")
    axes = figure.add_subplot()
    _titles(figure, title, _swimmer_notes(shown, total))
    if not shown:
        axes.text(0.5, 0.5, "No cases to show yet.", ha="center", va="center")
        axes.set_axis_off()
        return figure
    # Bars are drawn one call per (segment, response) group: far fewer artists to lay out.
    segments: dict[tuple[str, str], list[tuple[int, float, float]]] = {}
    for row, case in enumerate(shown):
        response = case.response if case.response in styles else UNKNOWN
        treated = _months(case.regimen_duration_weeks)
        followed = float(case.follow_up_months) if case.follow_up_months is not None else None
        if followed is not None and followed > (treated or 0.0):
            start = treated or 0.0
            segments.setdefault(("follow-up", response), []).append((row, start, followed - start))
        if treated:
            segments.setdefault(("treatment", response), []).append((row, 0.0, treated))
        if treated is None and followed is None:
            axes.text(
                0.1, row, "times not reported", va="center", fontsize=FONT_SIZE - 2,
                gid=f"case-{row}-not-reported",
            )  # fmt: skip
        events = [
            ("response", _months(case.time_to_response_weeks)),
            ("recurrence", _number(case.recurrence_months)),
            ("death", followed if _died(case, died) else None),
            ("stopped", treated if case.treatment_stopped_early else None),
        ]
        for name, at in events:
            if at is not None:
                marker, face, _ = MARKERS[name]
                axes.plot(
                    [at], [row], marker=marker, markersize=8, markerfacecolor=face,
                    markeredgecolor="#000000", markeredgewidth=1.2, linestyle="none",
                    gid=f"case-{row}-{name}", zorder=4,
                )  # fmt: skip
    for (segment, response), bars in sorted(segments.items()):
        colour, hatch = styles[response]
        thick = segment == "treatment"
        drawn = axes.barh(
            [row for row, _, _ in bars], [width for _, _, width in bars],
            left=[left for _, left, _ in bars], height=0.7 if thick else 0.28, color=colour,
            hatch=hatch, edgecolor="#000000" if thick else "#333333",
            linewidth=0.8 if thick else 0.6, alpha=1.0 if thick else 0.75,
            zorder=3 if thick else 2,
        )  # fmt: skip
        for patch, (row, _, _) in zip(drawn.patches, bars, strict=True):
            patch.set_gid(f"case-{row}-{segment}")
    axes.set_yticks(range(len(shown)), [_case_name(case) for case in shown])
    axes.set_ylim(len(shown) - 0.5, -0.5)  # first case at the top
    axes.set_xlim(left=0)
    axes.set_xlabel("Months from the start of treatment")
    axes.grid(axis="x", color="#DDDDDD", linewidth=0.6)
    axes.set_axisbelow(True)
    present = [name for name in styles if any(case.response == name for case in shown)]
    handles: list[Any] = [
        Patch(facecolor="#FFFFFF", edgecolor="#000000", label="Thick bar: on treatment"),
        Line2D([], [], color="#000000", linewidth=3, label="Thin bar: follow-up"),
    ]
    handles += [
        Patch(
            facecolor=styles[name][0],
            hatch=styles[name][1],
            edgecolor="#000000",
            label=labels[name],
        )
        for name in present
    ]
    handles += [
        Line2D(
            [],
            [],
            marker=marker,
            markersize=8,
            markerfacecolor=face,
            markeredgecolor="#000000",
            linestyle="none",
            label=label,
        )
        for marker, face, label in MARKERS.values()
    ]
    figure.legend(
        handles=handles, loc="outside lower center", ncols=2, frameon=False,
        fontsize=FONT_SIZE - 1,
    )  # fmt: skip
    return figure


def _swimmer_notes(shown: list[CaseData], total: int) -> str:
    notes = []
    if any(case.is_demo for case in shown):
        notes.append(f"{DEMO_NOTICE} (cases marked “demo”).")
    if total > len(shown):
        notes.append(f"The {len(shown)} longest courses of {total} patients are shown.")
    return "\n".join(notes)


def _titles(figure: Figure, title: str, note: str) -> None:
    """The chart's title above everything, with a note (demonstration data) under it."""
    lines = [textwrap.fill(title, 44)] + [textwrap.fill(line, 44) for line in note.splitlines()]
    figure.suptitle("\n".join(lines), x=0.02, ha="left", fontsize=FONT_SIZE + 1, fontweight="bold")


def _swimmer_description(shown: list[CaseData], total: int, words: Words) -> str:
    if not shown:
        return "Swimmer plot with no cases: nothing has been curated for this topic yet."
    counts = {value: sum(1 for case in shown if case.response == value) for value, *_ in words}
    labels = {value: label for value, label, _, _ in words}
    parts = ", ".join(f"{labels[n].lower()} {c}" for n, c in counts.items() if c)
    text = (
        f"Swimmer plot of {len(shown)} patient{'s' if len(shown) != 1 else ''}"
        + (f" (the longest courses of {total})" if total > len(shown) else "")
        + ". Each bar is one patient: the thick part is the time on treatment and the thin part "
        "the follow-up, in months from the start of treatment. Colour and pattern show the best "
        f"response ({parts}). Markers show when a response was seen (triangle), a recurrence "
        "(cross), death (square) and treatment stopped early (diamond). The table with the "
        "chart lists the same data."
    )
    demo = sum(1 for case in shown if case.is_demo)
    if demo:
        text += f" {DEMO_NOTICE}: {demo} of the cases shown are invented, illustrative cases."
    return text


def swimmer_plot_svg(
    cases: Sequence[CaseData],
    *,
    title: str,
    limit: int = SWIMMER_LIMIT,
    vocabulary: Vocabulary | None = None,
) -> str:
    """A swimmer plot: one bar per patient (time on treatment, then follow-up), with markers.

    Longest courses first; at most `limit` bars (the note and the description say so).
    Outcomes in the topic's words and order (`vocabulary`; the neutral default when None).
    """
    ordered = _swimmer_order(cases)
    died = (vocabulary or neutral_vocabulary()).died_statuses
    return _swimmer_svg(
        tuple(ordered[:limit]), len(ordered), title, outcome_words(vocabulary), died
    )


# Drawing costs far more than anything else on a page, and the output depends only on the
# arguments: the last charts drawn are kept (pages and the admin ask for the same ones again).
@lru_cache(maxsize=64)
def _swimmer_svg(
    shown: tuple[CaseData, ...], total: int, title: str, words: Words, died: tuple[str, ...]
) -> str:
    svg = _draw(_swimmer_figure, list(shown), total, title, words, died)
    return _finish_svg(
        svg,
        kind="swimmer",
        title=title,
        description=_swimmer_description(list(shown), total, words),
    )


def _response_figure(synthesis: Synthesis, title: str, words: Words, any_label: str) -> Figure:
    items = _response_items(synthesis, words, any_label)
    styles = {value: (colour, hatch) for value, _, colour, hatch in words}
    figure = Figure(figsize=(WIDTH_INCHES, 4.6), layout="constrained")
    axes = figure.add_subplot()
    note = ""
    if synthesis.demo_patients:
        note = (
            f"{DEMO_NOTICE}:\n{synthesis.demo_patients} of {synthesis.patients} cases are invented."
        )
    _titles(figure, title, note)
    if synthesis.patients == 0:
        axes.text(0.5, 0.5, "No cases to show yet.", ha="center", va="center")
        axes.set_axis_off()
        return figure
    for row, (key, _, share) in enumerate(items):
        colour, hatch = ANY_RESPONSE_STYLE if key == "any" else styles.get(key, NOT_REPORTED_STYLE)
        value = 100 * (share.proportion or 0.0)
        axes.barh(
            row, value, height=0.6, color=colour, hatch=hatch, edgecolor="#000000", linewidth=0.8,
            gid=f"response-{key}",
        )  # fmt: skip
        if share.ci_low is not None and share.ci_high is not None:
            whisker = axes.errorbar(
                [value], [row], xerr=[[value - 100 * share.ci_low], [100 * share.ci_high - value]],
                fmt="none", ecolor="#000000", elinewidth=1.4, capsize=5,
            )  # fmt: skip
            whisker.lines[2][0].set_gid(f"interval-{key}")
        axes.text(101, row, f"{share.count} of {share.total}", va="center", fontsize=FONT_SIZE - 1)
    axes.set_yticks(range(len(items)), [label.replace(" (", "\n(") for _, label, _ in items])
    axes.set_ylim(len(items) - 0.5, -0.5)
    axes.axhline(len(items) - 1.5, color="#777777", linewidth=0.8)
    axes.set_xlim(0, 118)
    axes.set_xticks(range(0, 101, 25), [f"{tick}%" for tick in range(0, 101, 25)])
    axes.set_xlabel("Share of patients, with exact 95% interval")
    axes.grid(axis="x", color="#DDDDDD", linewidth=0.6)
    axes.set_axisbelow(True)
    return figure


def _response_description(synthesis: Synthesis, words: Words, any_label: str) -> str:
    if synthesis.patients == 0:
        return "Response chart with no cases: nothing has been curated for this topic yet."
    shares = "; ".join(
        f"{label}: {_share_text(share)}"
        for _, label, share in _response_items(synthesis, words, any_label)
    )
    text = (
        f"Bar chart of the best response in {synthesis.patients} patients from "
        f"{synthesis.publications} publication{'s' if synthesis.publications != 1 else ''}, "
        f"with exact 95% confidence intervals as whiskers. {shares}."
    )
    if synthesis.demo_patients:
        text += (
            f" {DEMO_NOTICE}: {synthesis.demo_patients} of the {synthesis.patients} cases are "
            "invented, illustrative cases."
        )
    return text


def response_chart_svg(
    synthesis: Synthesis, *, title: str, vocabulary: Vocabulary | None = None
) -> str:
    """Bars for each response category and for any response, with exact 95% interval whiskers;
    categories in the topic's words (`vocabulary`; the neutral default when None)."""
    # Only these numbers are drawn; they make the cache key (a Synthesis holds dicts).
    drawn = (
        tuple((name, share) for name, share in synthesis.responses.items()),
        synthesis.any_response,
        synthesis.patients,
        synthesis.publications,
        synthesis.demo_patients,
    )
    words = outcome_words(vocabulary)
    return _response_svg(drawn, title, words, any_response_label(vocabulary))


@lru_cache(maxsize=64)
def _response_svg(drawn: tuple[Any, ...], title: str, words: Words, any_label: str) -> str:
    responses, any_response, patients, publications, demo_patients = drawn
    synthesis = Synthesis(
        publications=publications,
        patients=patients,
        demo_patients=demo_patients,
        responses=dict(responses),
        any_response=any_response,
        time_to_response_weeks=_NO_DISTRIBUTION,
        follow_up_months=_NO_DISTRIBUTION,
        recurrence_among_responders=any_response,
        adverse_events=(),
        patients_with_adverse_events=any_response,
        missing={},
        evidence_date=None,
    )
    svg = _draw(_response_figure, synthesis, title, words, any_label)
    return _finish_svg(
        svg,
        kind="responses",
        title=title,
        description=_response_description(synthesis, words, any_label),
    )
