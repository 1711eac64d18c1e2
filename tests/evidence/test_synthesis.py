"""The synthesis engine on plain data: values worked out by hand, and the edge cases."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evidencepress.evidence.synthesis import (
    AdverseEventData,
    CaseData,
    clopper_pearson,
    distribution,
    proportion,
    synthesise,
)


def case(label: str, response: str = "unknown", **fields: object) -> CaseData:
    return CaseData(
        publication_id=int(fields.pop("pub", 1)), label=label, response=response, **fields
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("count", "total", "low", "high"),
    [
        (3, 5, 0.1466, 0.9473),  # the worked example in issue 3
        (0, 5, 0.0, 0.5218),  # 0 of n: lower bound exactly 0
        (5, 5, 0.4782, 1.0),  # n of n: upper bound exactly 1
        (1, 1, 0.025, 1.0),
        (0, 1, 0.0, 0.975),
        (7, 20, 0.1539, 0.5922),
    ],
)
def test_clopper_pearson_matches_hand_computed_values(
    count: int, total: int, low: float, high: float
) -> None:
    got_low, got_high = clopper_pearson(count, total)
    assert got_low == pytest.approx(low, abs=5e-4)
    assert got_high == pytest.approx(high, abs=5e-4)


def test_an_interval_needs_patients_and_a_possible_count() -> None:
    with pytest.raises(ValueError, match="at least one patient"):
        clopper_pearson(0, 0)
    with pytest.raises(ValueError, match="outside"):
        clopper_pearson(6, 5)
    assert proportion(0, 0).proportion is None and proportion(0, 0).ci_low is None


@given(
    st.integers(min_value=1, max_value=300).flatmap(
        lambda n: st.tuples(st.integers(0, n), st.just(n))
    )
)
def test_intervals_always_contain_the_estimate(pair: tuple[int, int]) -> None:
    count, total = pair
    low, high = clopper_pearson(count, total)
    assert 0.0 <= low <= count / total <= high <= 1.0


def test_distribution_reports_median_quartiles_range_and_how_many_reported() -> None:
    d = distribution([Decimal("4"), None, Decimal("1"), Decimal("3"), Decimal("2")])
    assert (d.reported, d.median, d.q1, d.q3, d.minimum, d.maximum) == (4, 2.5, 1.75, 3.25, 1, 4)
    empty = distribution([None, None])
    assert empty.reported == 0 and empty.median is None


def test_a_small_series_worked_by_hand() -> None:
    stamp = datetime(2024, 9, 1, tzinfo=UTC)
    cases = [
        case(
            "A",
            "complete",
            time_to_response_weeks=Decimal(8),
            follow_up_months=Decimal(24),
            recurrence=False,
            updated_at=stamp,
            adverse_events=(AdverseEventData("Local skin reaction", "mild"),),
        ),
        case(
            "B",
            "complete",
            time_to_response_weeks=Decimal(12),
            follow_up_months=Decimal(6),
            recurrence=True,
            adverse_events=(
                AdverseEventData("local skin reaction", "moderate", True),
                AdverseEventData("Flu-like symptoms", "mild"),
            ),
        ),
        case("C", "partial", pub=2, follow_up_months=Decimal(12)),
        case("D", "stable", pub=2, is_demo=True, updated_at=datetime(2025, 1, 1, tzinfo=UTC)),
        case("E", "progression", pub=3),
    ]
    result = synthesise(cases)
    assert (result.publications, result.patients, result.demo_patients) == (3, 5, 1)
    assert result.responses["complete"].count == 2
    assert result.responses["unknown"].count == 0
    assert sum(share.count for share in result.responses.values()) == 5
    anyr = result.any_response
    assert (anyr.count, anyr.total) == (3, 5)
    assert anyr.ci_low == pytest.approx(0.1466, abs=5e-4)
    assert anyr.ci_high == pytest.approx(0.9473, abs=5e-4)
    # Time to response among responders: 8 and 12 weeks reported; C did not report it.
    assert result.time_to_response_weeks.reported == 2
    assert result.time_to_response_weeks.median == 10
    assert result.follow_up_months.reported == 3 and result.follow_up_months.median == 12
    # Recurrence: known for A and B among the three responders; one recurred.
    rec = result.recurrence_among_responders
    assert (rec.count, rec.total) == (1, 2)
    # Adverse events are grouped case-insensitively and counted by patient and by event.
    local = result.adverse_events[0]
    assert (local.kind, local.patients, local.events, local.led_to_stop) == (
        "local skin reaction",
        2,
        2,
        1,
    )
    assert local.by_severity["mild"] == 1 and local.by_severity["moderate"] == 1
    assert result.patients_with_adverse_events.count == 2
    # Missing values are counted, never silently dropped.
    assert result.missing["time_to_response_weeks"] == 3
    assert result.missing["follow_up_months"] == 2
    assert result.missing["age"] == 5
    assert result.evidence_date == datetime(2025, 1, 1, tzinfo=UTC)


def test_no_cases_gives_zero_counts_and_no_intervals() -> None:
    result = synthesise([])
    assert result.patients == 0 and result.publications == 0
    assert result.any_response.proportion is None
    assert all(p.ci_low is None for p in result.responses.values())
    assert result.evidence_date is None


def test_all_responders_and_no_responders() -> None:
    everyone = synthesise([case(str(i), "complete") for i in range(4)])
    assert everyone.any_response.ci_high == 1.0 and everyone.any_response.proportion == 1.0
    nobody = synthesise([case(str(i), "progression") for i in range(4)])
    assert nobody.any_response.ci_low == 0.0 and nobody.any_response.proportion == 0.0


def test_the_json_shape_has_the_documented_keys() -> None:
    data = synthesise([case("A", "complete")]).as_dict()
    assert {
        "publications",
        "patients",
        "responses",
        "any_response",
        "missing",
        "evidence_date",
    } <= set(data)
    assert set(data["responses"]["complete"]) >= {"count", "proportion", "ci_low", "ci_high"}
