"""Settings, logging and process configuration for every Service Hub process."""
