"""``python -m broker`` and the ``stuf-broker`` command (pyproject's console script): the command line
of broker.cli, imported with the garbage collector held off.

Importing the broker makes about 140,000 objects that live as long as the process (modules, classes,
the ORM's mappers, compiled expressions). With the collector running, its full collections walked them
again and again while they were being made: 0.2 to 0.25 s of an import of about 1 s, on the path of
every start-up. They are made with the collector off, then frozen out of later collections
(``gc.freeze``; the few dozen unreachable objects among them are not worth a full collection) and the
collector is switched on again before any command runs.
"""

import gc


def run() -> None:
    gc.disable()
    from broker.cli import main

    gc.freeze()
    gc.enable()
    main()


if __name__ == "__main__":
    run()
