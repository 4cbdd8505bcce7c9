"""The broker's exception tree.

::

    BrokerError
    ├── StufError            a condition with a StUF foutcode; becomes Fo01/Fo02/Fo03 in broker.stuf.faults
    │   └── RequestRejected  refused before the message could be read as StUF (size, content type)
    ├── ConfigError          a configuration file is wrong; carries every problem with file:line
    ├── SchemaError          the official schemas are missing, altered or do not compile
    └── AdapterError         a target failed; ``retryable`` says whether trying again may help,
                             ``fault`` optionally carries the StUF fault the target answered

Foreign exceptions are converted at each boundary; only ``broker.stuf.faults`` turns them into
StUF foutberichten.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from broker.foutcodes import FOUTCODES


class BrokerError(Exception):
    """Base of every error the broker raises on purpose."""


class StufError(BrokerError):
    """A situation with a StUF foutcode (StUF 03.01 Tabel 4.1 and the sector tables).

    ``omschrijving`` is the readable sentence for the sender; ``details`` may hold where and why
    (line, element path, reason). Neither may contain personal data: they are logged.
    """

    def __init__(
        self,
        code: str,
        omschrijving: str | None = None,
        details: str | None = None,
        *,
        plek: str | None = None,
        http_status: int | None = None,
        soap_fault_code: str | None = None,
    ) -> None:
        info = FOUTCODES.get(code)
        self.code = code
        self.plek = plek or (info.plek if info else "server")
        self.omschrijving = omschrijving or (info.omschrijving if info else code)
        self.details = details
        self.http_status = http_status
        #: a SOAP fault code other than Client/Server (Sender/Receiver) this error calls for, e.g.
        #: MustUnderstand for a header block the broker does not know
        self.soap_fault_code = soap_fault_code
        super().__init__(f"{code}: {self.omschrijving}")


class RequestRejected(StufError):
    """Refused at the HTTP edge, before parsing (oversize body, wrong content type)."""


@dataclass
class ConfigProblem:
    file: str
    line: int | None
    message: str
    suggestion: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        hint = f" (did you mean {self.suggestion!r}?)" if self.suggestion else ""
        return f"{where}: {self.message}{hint}"


@dataclass
class ConfigError(BrokerError):
    problems: list[ConfigProblem] = field(default_factory=list)

    def __str__(self) -> str:
        return "invalid configuration:\n" + "\n".join(f"  {p}" for p in self.problems)


class SchemaError(BrokerError):
    """The installed StUF schemas are missing, altered, or do not compile."""


class AdapterError(BrokerError):
    """A delivery target failed.

    ``retryable`` is the adapter's judgement (timeouts, connection errors, HTTP 5xx, a server-side
    Fo03 are worth another attempt; HTTP 4xx and client-side faults are not). ``fault`` carries the
    StUF error to hand back to the sender when the target's answer is the broker's answer.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        fault: StufError | None = None,
        target_answer: str | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.fault = fault
        self.target_answer = target_answer
