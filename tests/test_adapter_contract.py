"""The contract every adapter keeps, checked the same way for each: the Target protocol, a Health from
``check()``, an answer to a creeerZaak, unknown options refused at their line of routes.yaml, one
retry classification, and a queued delivery that ends as the adapter declares.

Each adapter runs for real: the embedded zaaksysteem, zgw against the loopback fake, stuf forward and
webhook against loopback receivers, and the two test adapters (tests.support.adapters). A new adapter
joins with one line in ``ADAPTERS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select

from broker.adapters.http import transport_error
from broker.adapters.targets import Target
from broker.devtools.zgw_fake import ZGWFake
from broker.errors import AdapterError, ConfigError, StufError
from broker.model.ports import Health
from broker.queue.tables import Delivery
from broker.runtime import Broker
from tests.support import adapters, live
from tests.support import messages as m
from tests.support import zgw_broker as zb
from tests.support import zgw_messages as zm
from tests.support.configs import fast_delivery
from tests.support.soapcall import SoapCaller
from tests.support.target import CountingTarget
from tests.support.waiting import wait_until
from tests.support.webhook_receiver import WebhookReceiver

MAX_ATTEMPTS = 3
CLOSED = f"http://127.0.0.1:{live.free_port()}"  # nothing listens here


@dataclass
class Running:
    case: Case
    live: live.LiveBroker
    soap: SoapCaller
    definition: dict[str, Any]  # the target's entry in routes.yaml
    handle: Any  # what the adapter talks to (receiver, fake), or None

    @property
    def target(self) -> Any:
        return self.live.broker.targets["t"]


@dataclass(frozen=True)
class Case:
    """An adapter under contract. ``setup`` starts what it talks to and gives its routes.yaml entry
    and a handle; ``arrived`` tells whether a zaak reached it; ``down`` is the entry of the same
    adapter pointed at nothing; ``fails``: None when it delivers, else the ``retryable`` it declares."""

    id: str
    setup: Callable[[ExitStack], tuple[dict[str, Any], Any]]
    arrived: Callable[[Running, str], bool] = lambda run, zaak: True
    down: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    fails: bool | None = None


def _plain(definition: dict[str, Any]) -> Callable[[ExitStack], tuple[dict[str, Any], Any]]:
    return lambda stack: (definition, None)


def _zgw(stack: ExitStack) -> tuple[dict[str, Any], Any]:
    fake = stack.enter_context(ZGWFake(clients=[(zb.CLIENT_ID, zb.SECRET)]))
    zb.seed_shv(fake)
    return zb.target_options(fake), fake


def _stuf(stack: ExitStack) -> tuple[dict[str, Any], Any]:
    receiver = CountingTarget().start()
    stack.callback(receiver.stop)
    return {"adapter": "stuf", "url": receiver.url, "timeout": 5}, receiver


def _webhook(stack: ExitStack) -> tuple[dict[str, Any], Any]:
    receiver = stack.enter_context(WebhookReceiver())
    return {"adapter": "webhook", "url": receiver.url, "timeout": 5}, receiver


def _embedded_has(run: Running, zaak: str) -> bool:
    answer = run.soap.call("BeantwoordVraag", m.geef_zaakdetails(zaak))
    return answer.text("antwoord/object/identificatie") == zaak


def _kept(run: Running, zaak: str) -> bool:
    return any(zaak.encode() in r.raw for r in run.target.received)


def _nowhere(*keys: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda definition: {**definition, **{k: CLOSED + "/" + k for k in keys}, "timeout": 1}


ADAPTERS = [
    Case("embedded", _plain({"adapter": "embedded"}), _embedded_has),
    Case("zgw", _zgw, lambda run, zaak: any(z["identificatie"] == zaak for z in run.handle.objects("zaken")),
         _nowhere("zaken_url", "catalogi_url", "documenten_url", "besluiten_url")),
    Case("stuf", _stuf, lambda run, zaak: zaak in run.handle.order, _nowhere("url")),
    Case("webhook", _webhook, lambda run, zaak: bool(run.handle.events(zaak)), _nowhere("url")),
    Case("memory", _plain({"adapter": "memory"}), _kept),
    Case("failing", _plain({"adapter": "failing", "retryable": True}), fails=True),
    Case("failing-permanent", _plain({"adapter": "failing", "retryable": False}), fails=False),
]


def routes_for(definition: dict[str, Any], down: dict[str, Any] | None) -> dict[str, Any]:
    """creeerZaak sync to the target ``t`` (zender QUEUED: queued; zender DOWN: queued to ``t_down``);
    everything else to an embedded zaaksysteem (``t`` itself when it is one)."""
    targets = {"t": definition}
    primary = "t" if definition["adapter"] == "embedded" else "zs"
    if primary == "zs":
        targets["zs"] = {"adapter": "embedded"}
    routes = [{"operations": ["creeerZaak"], "zenders": ["QUEUED"], "deliver": [{"target": "t", "mode": "queued"}]}]
    if down is not None:
        targets["t_down"] = down
        routes.append({"operations": ["creeerZaak"], "zenders": ["DOWN"],
                       "deliver": [{"target": "t_down", "mode": "queued"}]})
    routes += [{"operations": ["creeerZaak"], "deliver": [{"target": "t", "mode": "sync"}]},
               {"operations": ["*"], "deliver": [{"target": primary, "mode": "sync"}]}]
    return {"targets": targets, "routes": routes, "delivery": fast_delivery(max_attempts=MAX_ATTEMPTS)}


@pytest.fixture(scope="module", autouse=True)
def _test_adapters() -> Iterator[None]:
    with adapters.registered():
        yield


@pytest.fixture(scope="module", params=ADAPTERS, ids=[c.id for c in ADAPTERS])
def run(request, tmp_path_factory, schemas, _test_adapters) -> Iterator[Running]:
    case: Case = request.param
    tmp = tmp_path_factory.mktemp(case.id)
    with ExitStack() as stack:
        definition, handle = case.setup(stack)
        down = case.down(definition) if case.down else None
        lb = live.start(live.make_settings(tmp, config_dir=zb.write_zgw_config(tmp, routes_for(definition, down))))
        stack.callback(lb.stop)
        soap = SoapCaller(lb.url, schemas)
        stack.callback(soap.close)
        yield Running(case, lb, soap, definition, handle)


def creeer(run: Running, zaak: str, zender: str = "STP") -> Any:
    return run.soap.call("OntvangAsynchroon", zm.creeer_zaak(zaak, zender=("KING", zender)),
                         soap_action=zm.ACTION["creeer"])


def deliveries(run: Running, target: str) -> list[Delivery]:
    with run.live.broker.db.read() as s:
        return list(s.execute(select(Delivery).where(Delivery.target == target).order_by(Delivery.id)).scalars())


def test_it_implements_the_target_protocol(run: Running) -> None:
    target = run.target
    assert isinstance(target, Target)
    assert target.name == "t" and isinstance(target.shares_transaction, bool)


def test_check_returns_a_health(run: Running) -> None:
    health = run.target.check()
    assert isinstance(health, Health) and isinstance(health.detail, str)
    assert health.ok is (run.case.fails is None), health


def test_a_creeer_zaak_gets_an_answer(run: Running) -> None:
    zaak = f"1234CT{run.case.id[:4].upper()}01"
    answer = creeer(run, zaak)
    if run.case.fails is None:
        assert answer.berichtcode == "Bv03", answer.content.decode()
        assert run.case.arrived(run, zaak)
    else:  # the sender hears that the target failed
        assert answer.is_fault and answer.foutcode, answer.content.decode()


def test_unknown_options_are_refused_with_their_line(run: Running, tmp_path: Path) -> None:
    routes = routes_for({**run.definition, "colour": "blue"}, None)
    config = zb.write_zgw_config(tmp_path, routes)
    with pytest.raises(ConfigError) as refused:
        Broker(live.make_settings(tmp_path, config_dir=config))
    [problem] = [p for p in refused.value.problems if "colour" in p.message]
    assert problem.file.endswith("routes.yaml") and problem.line is not None
    lines = (config / "routes.yaml").read_text().splitlines()
    assert lines[problem.line - 1].strip().startswith("colour:"), (problem, yaml.safe_dump(routes))


@pytest.mark.parametrize("failure", [httpx.ConnectTimeout("connect"), httpx.ReadTimeout("read"),
                                     httpx.ConnectError("refused"), httpx.RemoteProtocolError("reset")],
                         ids=lambda e: type(e).__name__)
def test_no_answer_is_worth_a_retry(run: Running, failure: httpx.RequestError) -> None:
    error = transport_error(failure, "POST /x", timeout=1)
    assert run.target.retryable(error) and type(failure).__name__ in str(error)


@pytest.mark.parametrize("failure", [StufError("StUF055", "onjuist bericht", plek="client"),
                                     AdapterError("HTTP 400", retryable=False)], ids=["fo03-client", "http-4xx"])
def test_a_client_side_error_is_permanent(run: Running, failure: BaseException) -> None:
    assert not run.target.retryable(failure)


def test_a_queued_delivery_ends_as_the_adapter_declares(run: Running) -> None:
    zaak = f"1234CQ{run.case.id[:4].upper()}01"
    assert creeer(run, zaak, zender="QUEUED").berichtcode == "Bv03"  # acknowledged before delivery
    wait_until(lambda: deliveries(run, "t")[-1].state in ("delivered", "dead"))
    delivery = deliveries(run, "t")[-1]
    if run.case.fails is None:
        assert (delivery.state, delivery.attempts) == ("delivered", 1), delivery.last_error
        assert run.case.arrived(run, zaak)
    elif run.case.fails:
        assert (delivery.state, delivery.attempts) == ("dead", MAX_ATTEMPTS) and "fails as declared" in (
            delivery.last_error or "")
    else:
        assert (delivery.state, delivery.attempts) == ("dead", 1)


def test_an_unreachable_target_is_retried_with_a_readable_error(run: Running) -> None:
    if run.case.down is None:
        pytest.skip(f"{run.case.id} has no network to lose")
    assert creeer(run, "1234CDOWN001", zender="DOWN").berichtcode == "Bv03"
    wait_until(lambda: deliveries(run, "t_down")[-1].state == "dead")
    delivery = deliveries(run, "t_down")[-1]
    assert delivery.attempts == MAX_ATTEMPTS, delivery.note  # every failure was worth another attempt
    assert "connection refused" in (delivery.last_error or ""), delivery.last_error
