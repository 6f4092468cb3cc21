"""The Celery entry point: `celery -A service_hub.celery_worker worker`."""

from service_hub import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
