# The shop's images, in stages. docker-compose.yml builds three targets from this file:
#   web      the shop (web, worker, beat, migrate): a venv and the code, no compilers
#   nginx    Debian's nginx with the collected static files and deploy/nginx/
#   sandbox  the Roamify and Stripe sandboxes (the compose `sandbox` profile only)
# `docker build .` builds `web`, the last stage. Every image runs as a non-root user.

# -- base: what every Python stage shares ---------------------------------------------------
FROM python:3.11-slim-bookworm AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PATH=/opt/venv/bin:$PATH
RUN useradd --create-home --uid 10001 shop
WORKDIR /app

# -- builder: the runtime requirements in a venv (every pin has a wheel: no compiler needed) -
FROM base AS builder
COPY requirements.txt ./
RUN python -m venv /opt/venv && pip install -r requirements.txt

# -- static: collectstatic (hashed, compressed names) for web and nginx; the translations ----
# compiled (.mo files are build output, not in git): msgfmt is Debian's gettext, here only.
FROM builder AS static
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
COPY . .
RUN DJANGO_ALLOW_INSECURE_KEY=1 ALLOW_SANDBOX_SECRETS=1 STATIC_ROOT=/static \
    python manage.py collectstatic --no-input -v 0 \
    && DJANGO_ALLOW_INSECURE_KEY=1 ALLOW_SANDBOX_SECRETS=1 \
    python manage.py compilemessages -v 0 --ignore=staticfiles

# -- sandbox: the test requirements too (localstripe, aiohttp) ------------------------------
FROM builder AS sandbox-builder
COPY requirements-dev.txt ./
RUN pip install -r requirements-dev.txt

FROM base AS sandbox
COPY --from=sandbox-builder /opt/venv /opt/venv
COPY . .
USER shop

# -- nginx: the edge (static files, page cache, proxy to web) -------------------------------
FROM debian:bookworm-slim AS nginx
RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx gettext-base \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 10001 shop \
    && mkdir -p /var/cache/shop-nginx /tmp/nginx \
    && chown shop /var/cache/shop-nginx /tmp/nginx
COPY --from=static /static /srv/static
COPY deploy/nginx/ /etc/shop-nginx/
ENV NGINX_LISTEN=8080 SHOP_UPSTREAM=web:8000 STATIC_ROOT=/srv/static \
    NGINX_CACHE_DIR=/var/cache/shop-nginx NGINX_RUN_DIR=/tmp/nginx
USER shop
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD ["/etc/shop-nginx/healthcheck.sh"]
ENTRYPOINT ["/etc/shop-nginx/entrypoint.sh"]

# -- web: the shop ---------------------------------------------------------------------------
FROM base AS web
COPY --from=builder /opt/venv /opt/venv
COPY . .
COPY --from=static /static /app/staticfiles
COPY --from=static /app/locale /app/locale
# VAR_DIR: the filesystem broker and beat's schedule file, when there is no Redis (make demo).
RUN mkdir -p /app/var && chown shop /app/var
ENV VAR_DIR=/app/var
USER shop
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --retries=3 CMD ["python", "deploy/healthcheck.py", "web"]
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "storefront.wsgi:application"]
