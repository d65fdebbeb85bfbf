"""The service as uvicorn serves it, with the floor endpoint added (`tests/load/floor.py`): the load scenario's
app, so that the floor is measured in the same app and run as the posts."""

from service.main import app
from tests.load.floor import add_floor

add_floor(app)
