"""Dates and moments that do not exist are refused with StUF055, naming the element and the format.

The XSD types a StUF date as an 8-digit decimal and a moment as 8 to 17 digits, so 20261332 passes
the schema; the broker checks what the pattern cannot (broker.stuf.datums), honouring
``StUF:indOnvolledigeDatum``.
"""

from __future__ import annotations

import pytest

from broker.stuf.datums import date_problem, moment_problem
from tests.support import messages as m
from tests.support.edge_live import Edge, running

ASYNC = "OntvangAsynchroon"


@pytest.fixture(scope="module")
def edge(tmp_path_factory, schemas):
    with running(tmp_path_factory.mktemp("dates"), schemas) as edge:
        yield edge


@pytest.mark.parametrize(("value", "indicator"), [
    ("20261206", "V"), ("20240229", "V"), ("20261200", "D"), ("20260000", "M"), ("00000000", "J"), ("18000101", "V"),
])
def test_dates_that_exist(value: str, indicator: str) -> None:
    assert date_problem(value, indicator) is None


@pytest.mark.parametrize(("value", "indicator"), [
    ("20261332", "V"), ("20230230", "V"), ("99999999", "V"), ("00000000", "V"), ("20261200", "V"),
    ("20261206", "D"), ("20261300", "D"), ("20261200", "M"), ("20260000", "J"), ("2026120", "V"),
])
def test_dates_that_do_not(value: str, indicator: str) -> None:
    assert date_problem(value, indicator)


@pytest.mark.parametrize(("value", "ok"), [
    ("20261206", True), ("202612061430", True), ("20261206143059", True), ("20261206143059123", True),
    ("20261206243000", False), ("20261206146000", False), ("20261206143", False), ("20261306143000", False),
])
def test_moments(value: str, ok: bool) -> None:
    assert (moment_problem(value) is None) is ok


def _zaak(startdatum: str, attributes: str = "") -> str:
    xml = m.creeer_zaak("1234DATUM01")
    return xml.replace(f"<ZKN:startdatum>{m.today()}</ZKN:startdatum>",
                       f"<ZKN:startdatum{attributes}>{startdatum}</ZKN:startdatum>")


@pytest.mark.parametrize("value", ["20261332", "20230230", "99999999", "00000000"])
def test_an_impossible_startdatum_is_refused_naming_the_element_and_the_format(edge: Edge, value: str) -> None:
    answer = edge.soap.call(ASYNC, _zaak(value))
    assert answer.status == 500 and answer.foutcode == "StUF055"
    details = answer.text("body/details") or ""
    text = (answer.text("body/omschrijving") or "") + details
    assert "startdatum" in text and value in text and "JJJJMMDD" in text
    assert "object/" in details or "startdatum" in details  # where: the element's path


def test_an_incomplete_date_with_its_indicator_is_accepted(edge: Edge) -> None:
    answer = edge.soap.call(ASYNC, _zaak("20261200", ' StUF:indOnvolledigeDatum="D"').replace("1234DATUM01", "1234DATUM02"))
    assert answer.berichtcode == "Bv03", answer.content


def test_an_iso_date_is_refused_with_the_format(edge: Edge) -> None:
    answer = edge.soap.call(ASYNC, _zaak("2026-12-06").replace("1234DATUM01", "1234DATUM03"))
    assert answer.foutcode == "StUF055"
    text = (answer.text("body/omschrijving") or "") + (answer.text("body/details") or "")
    assert "startdatum" in text and "JJJJMMDD" in text


def test_an_impossible_geboortedatum_of_a_betrokkene_is_refused(edge: Edge) -> None:
    xml = m.creeer_zaak("1234DATUM04").replace(
        "<BG:inp.bsn>111222333</BG:inp.bsn>",
        "<BG:inp.bsn>111222333</BG:inp.bsn><BG:geboortedatum>20230230</BG:geboortedatum>")
    answer = edge.soap.call(ASYNC, xml)
    assert answer.foutcode == "StUF055", answer.content
    assert "geboortedatum" in (answer.text("body/omschrijving") or "")


def test_a_missing_required_element_is_named(edge: Edge) -> None:
    """The same readable message for what the schema requires and the message leaves out."""
    xml = m.creeer_zaak("1234DATUM05")
    without = xml.replace(f"<ZKN:startdatum>{m.today()}</ZKN:startdatum>", "", 1)
    assert without != xml
    answer = edge.soap.call(ASYNC, without)
    assert answer.foutcode == "StUF055", answer.content
    text = (answer.text("body/omschrijving") or "") + (answer.text("body/details") or "")
    assert "ZKN:startdatum" in text and "{" not in text  # named with its StUF prefix, not in Clark notation
