"""Deploy files (nginx, gunicorn, health checks) and the helpers that run them outside containers."""
