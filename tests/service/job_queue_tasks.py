"""A task only the job queue's tests register: it writes its argument to a file, so a test in another process
sees that a worker ran it. Imported by the test and by the worker processes it starts."""

from pathlib import Path

from sqlalchemy import Engine

from service.core import tasks


@tasks.task("test.touch")
def touch(engine: Engine, *, path: str, text: str) -> None:
    with Path(path).open("a") as file:
        file.write(text + "\n")
