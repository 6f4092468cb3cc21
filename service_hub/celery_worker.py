"""The Celery entry point: `celery -A service_hub.celery_worker worker`."""

import service_hub.core.tasks  # noqa: F401  (registers the tasks with the worker)
from service_hub import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
