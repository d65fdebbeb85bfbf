"""The ASGI entry point for uvicorn: `uvicorn service.main:app`."""

import gc

from service.app import create_app

app = create_app()

# Everything made at start-up (routes, models, compiled statements) lives as long as the process: out of the
# collector's view, full collections under load are shorter (figures in docs/decisions/0007).
gc.freeze()
