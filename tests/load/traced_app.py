"""The service wrapped so that each worker records what it did (`tests.load.run --trace DIR`)."""

from tests.load.trace import traced_app

app = traced_app()
