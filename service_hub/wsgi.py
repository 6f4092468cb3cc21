"""The WSGI entry point for gunicorn and `flask --app service_hub.wsgi`."""

from service_hub import create_app

app = create_app()
