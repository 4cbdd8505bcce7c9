"""For ``bench/profile_server.py --http-only`` (this folder on the server's PYTHONPATH, and
STUF_BENCH_HTTP_ONLY set): every SOAP request is answered with the Bv03 in STUF_BENCH_HTTP_ONLY (a file)
as soon as its body is read, without parsing, checking or storing it. What is left of a request's cost is
the HTTP server's: uvicorn's protocol, the broker's, reading the body and writing the answer."""

import os

_ANSWER = os.environ.get("STUF_BENCH_HTTP_ONLY")
if _ANSWER:
    from pathlib import Path

    from broker.intake import pipeline
    from broker.intake.answers import HttpAnswer

    _BODY = Path(_ANSWER).read_bytes()

    def _begin(self, port, body, content_type, soap_action, transport=None, *, on_loop=True):  # type: ignore[no-untyped-def]
        return pipeline.Begun(answer=HttpAnswer(200, _BODY, "text/xml; charset=utf-8"))

    pipeline.Pipeline.begin = _begin  # type: ignore[method-assign]
