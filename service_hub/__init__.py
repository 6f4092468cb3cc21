"""Service Hub: the Flask application that composes channels/ and workflows/."""

from service_hub.core.app_factory import create_app

__all__ = ["create_app"]
