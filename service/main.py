"""The ASGI entry point for uvicorn: `uvicorn service.main:app`."""

import gc

from service.app import create_app

app = create_app()

# Everything made at start-up (routes, models, compiled statements) lives as long as the process: moving it out
# of the collector's view cut full collections under load from about 180 ms to about 40 ms (tests/load).
gc.freeze()
