"""The Celery entry point: `celery -A service_hub.celery_worker worker`."""

# Importing the task modules registers their tasks with the worker.
import service_hub.casework.tasks
import service_hub.core.tasks
import service_hub.inbound.tasks  # noqa: F401
from service_hub import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
