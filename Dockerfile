FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends libzbar0 && rm -rf /var/lib/apt/lists/*
COPY requirements.txt requirements-dev.txt ./
# The sandboxes need the dev requirements; production images can build with
# --build-arg REQUIREMENTS=requirements.txt.
ARG REQUIREMENTS=requirements.txt
RUN pip install -r ${REQUIREMENTS}
COPY . .
RUN DJANGO_ALLOW_INSECURE_KEY=1 ALLOW_SANDBOX_SECRETS=1 python manage.py collectstatic --no-input -v 0
RUN useradd --create-home shop && chown -R shop /app
USER shop
EXPOSE 8000
CMD ["gunicorn", "storefront.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
