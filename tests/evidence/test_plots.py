"""The swimmer plot and the response chart: what a reader (or a screen reader) gets."""

from __future__ import annotations

import re
import threading
from decimal import Decimal
from xml.etree import ElementTree

import pytest

from evidencepress.evidence import plots
from evidencepress.evidence.plots import (
    DEMO_NOTICE,
    SWIMMER_LIMIT,
    response_chart_svg,
    response_rows,
    swimmer_plot_svg,
    swimmer_rows,
)
from evidencepress.evidence.synthesis import CaseData, synthesise

SVG = "{http://www.w3.org/2000/svg}"


def cases() -> list[CaseData]:
    return [
        CaseData(
            publication_id=1,
            label="Case 1",
            response="complete",
            regimen_duration_weeks=Decimal(12),
            time_to_response_weeks=Decimal(8),
            follow_up_months=Decimal(24),
            status_at_last_follow_up="ned",
        ),
        CaseData(
            publication_id=1,
            label="Case 2",
            response="partial",
            regimen_duration_weeks=Decimal(16),
            follow_up_months=Decimal(10),
            recurrence=True,
            recurrence_months=Decimal(7),
        ),
        CaseData(
            publication_id=2,
            label="Case 3",
            response="progression",
            regimen_duration_weeks=Decimal(6),
            follow_up_months=Decimal(8),
            treatment_stopped_early=True,
            status_at_last_follow_up="dod",
        ),
    ]


def demo_case(label: str = "Illustrative case A", **fields: object) -> CaseData:
    return CaseData(publication_id=9, label=label, is_demo=True, **fields)  # type: ignore[arg-type]


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)


def case_rows_drawn(svg: str) -> set[str]:
    return set(re.findall(r'id="swimmer-[0-9a-f]{8}-case-(\d+)-', svg))


def test_one_row_per_patient_with_bars_and_markers() -> None:
    svg = swimmer_plot_svg(cases(), title="Each patient's course")
    assert case_rows_drawn(svg) == {"0", "1", "2"}
    assert len(re.findall(r'-case-\d+-treatment"', svg)) == 3
    # Longest course first: Case 1 (24 months), then Case 2 (10), then Case 3 (8).
    assert "-case-0-response" in svg  # Case 1 responded at 8 weeks
    assert "-case-1-recurrence" in svg
    assert "-case-2-death" in svg and "-case-2-stopped" in svg


def test_every_chart_has_a_title_and_a_description_linked_for_screen_readers() -> None:
    for svg in (
        swimmer_plot_svg(cases(), title="Courses"),
        response_chart_svg(synthesise(cases()), title="Responses"),
    ):
        root = parse(svg)
        title = root.find(f"{SVG}title")
        desc = root.find(f"{SVG}desc")
        assert title is not None and desc is not None
        assert root.get("aria-labelledby") == title.get("id")
        assert root.get("aria-describedby") == desc.get("id")
        assert root.get("role") == "img" and root.get("viewBox")
    swimmer_desc = parse(swimmer_plot_svg(cases(), title="Courses")).find(f"{SVG}desc")
    assert swimmer_desc is not None and "Swimmer plot of 3 patients" in (swimmer_desc.text or "")
    chart_desc = parse(response_chart_svg(synthesise(cases()), title="R")).find(f"{SVG}desc")
    assert chart_desc is not None
    assert "Any response (complete or partial): 2 of 3 (67%; 95% CI 9% to 99%)" in (
        chart_desc.text or ""
    )


def test_demonstration_cases_are_labelled_in_the_picture_and_the_description() -> None:
    svg = swimmer_plot_svg([*cases(), demo_case(response="stable")], title="Courses")
    assert "<!-- Illustrative case A (demo) -->" in svg  # the axis label, drawn as paths
    assert "Demonstration data — not medical evidence" in svg  # the note under the title
    desc = parse(svg).find(f"{SVG}desc")
    assert desc is not None and DEMO_NOTICE in (desc.text or "")
    real_only = swimmer_plot_svg(cases(), title="Courses")
    assert DEMO_NOTICE not in real_only and "(demo)" not in real_only
    chart = response_chart_svg(synthesise([*cases(), demo_case()]), title="R")
    assert DEMO_NOTICE in chart


def test_no_scripts_no_inline_styles_and_hostile_text_stays_text() -> None:
    hostile = "</title><script>alert(1)</script>"
    svg = swimmer_plot_svg([demo_case(label="--><script>x</script><!--")], title=hostile)
    chart = response_chart_svg(synthesise(cases()), title=hostile)
    for markup in (svg, chart):
        assert "<script" not in markup.lower()
        assert not re.search(r"\son\w+=", markup)  # no event handlers
        assert "style=" not in markup and "<style" not in markup  # CSP: no inline styles
        parse(markup)  # still well-formed XML
    title = parse(chart).find(f"{SVG}title")
    assert title is not None and title.text == hostile


def forget_drawn_charts() -> None:
    plots._swimmer_svg.cache_clear()
    plots._response_svg.cache_clear()


def test_the_same_input_gives_the_same_bytes() -> None:
    forget_drawn_charts()
    first = swimmer_plot_svg(cases(), title="Courses")
    chart = response_chart_svg(synthesise(cases()), title="R")
    forget_drawn_charts()  # draw again, not from the cache of drawn charts
    assert swimmer_plot_svg(list(reversed(cases())), title="Courses") == first
    assert response_chart_svg(synthesise(cases()), title="R") == chart
    assert "dc:date" not in first and "Matplotlib" not in first
    assert swimmer_plot_svg(cases(), title="Other") != first


def test_charts_render_from_several_threads_at_once() -> None:
    expected = swimmer_plot_svg(cases(), title="Courses")
    forget_drawn_charts()
    results: list[str] = []

    def draw() -> None:
        results.append(swimmer_plot_svg(cases(), title="Courses"))

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 4


def test_ids_differ_between_charts_so_two_can_share_a_page() -> None:
    ids = lambda svg: set(re.findall(r'\bid="([^"]+)"', svg))  # noqa: E731
    swimmer = swimmer_plot_svg(cases(), title="Courses")
    chart = response_chart_svg(synthesise(cases()), title="Responses")
    assert ids(swimmer) and ids(chart) and not ids(swimmer) & ids(chart)
    # Every reference points at an id of the same chart.
    for svg in (swimmer, chart):
        for ref in re.findall(r'(?:url\(#|xlink:href="#)([^)"]+)', svg):
            assert ref in ids(svg)


def test_no_cases_and_missing_fields_still_give_a_chart() -> None:
    empty = swimmer_plot_svg([], title="Courses")
    desc = parse(empty).find(f"{SVG}desc")
    assert desc is not None and "no cases" in (desc.text or "")
    assert case_rows_drawn(empty) == set()
    assert swimmer_rows([]) == []
    nothing = response_chart_svg(synthesise([]), title="Responses")
    assert "-response-" not in nothing
    assert response_rows(synthesise([]))[-1]["Patients"] == "no cases"
    # A case with no times at all still gets its row, saying so.
    bare = swimmer_plot_svg([CaseData(publication_id=1, label="Case 9")], title="Courses")
    assert case_rows_drawn(bare) == {"0"}
    assert "-case-0-not-reported" in bare and "-case-0-treatment" not in bare


def test_long_lists_are_cut_to_the_limit_and_say_so() -> None:
    many = [
        CaseData(publication_id=1, label=f"Case {i}", follow_up_months=Decimal(i))
        for i in range(SWIMMER_LIMIT + 5)
    ]
    svg = swimmer_plot_svg(many, title="Courses")
    assert len(case_rows_drawn(svg)) == SWIMMER_LIMIT
    desc = parse(svg).find(f"{SVG}desc")
    assert desc is not None and f"the longest courses of {SWIMMER_LIMIT + 5}" in (desc.text or "")
    assert len(swimmer_rows(many)) == SWIMMER_LIMIT + 5  # the table lists everyone


def test_swimmer_rows_are_the_plotted_data_in_plot_order() -> None:
    rows = swimmer_rows([*cases(), demo_case()])
    assert [row["Case"] for row in rows] == ["Case 1", "Case 2", "Case 3", "Illustrative case A"]
    first = rows[0]
    assert first["Best response"] == "Complete response"
    assert (first["Weeks of treatment"], first["Follow-up (months)"]) == (12.0, 24.0)
    assert first["Weeks to response"] == 8.0 and first["Died"] == "no"
    assert rows[1]["Recurrence"] == "yes" and rows[1]["Months to recurrence"] == 7.0
    assert rows[2]["Died"] == "yes" and rows[2]["Treatment stopped early"] == "yes"
    demo = rows[3]
    assert demo["Demonstration data"] == "yes"
    assert demo["Follow-up (months)"] is None and demo["Recurrence"] is None  # not reported


def test_response_rows_hold_the_synthesis_numbers() -> None:
    rows = {row["key"]: row for row in response_rows(synthesise(cases()))}
    assert list(rows) == ["complete", "partial", "stable", "progression", "unknown", "any"]
    assert rows["any"]["count"] == 2 and rows["any"]["total"] == 3
    assert rows["stable"]["count"] == 0 and rows["stable"]["ci_low"] == 0.0
    assert rows["complete"]["ci_low"] == pytest.approx(0.0084, abs=5e-4)
    assert rows["complete"]["Patients"] == "1 of 3 (33%; 95% CI 1% to 91%)"
