#!/bin/sh
# The nginx container's entrypoint: render nginx.conf from the template with the environment,
# then run nginx in the foreground as the image's (non-root) user.
set -eu

: "${NGINX_LISTEN:=8080}"
: "${SHOP_UPSTREAM:=web:8000}"
: "${STATIC_ROOT:=/srv/static}"
: "${NGINX_CACHE_DIR:=/var/cache/shop-nginx}"
: "${NGINX_RUN_DIR:=/tmp/nginx}"
: "${NGINX_REAL_IP_FROM:=127.0.0.1}"
export NGINX_LISTEN SHOP_UPSTREAM STATIC_ROOT NGINX_CACHE_DIR NGINX_RUN_DIR NGINX_REAL_IP_FROM

template="${NGINX_TEMPLATE:-/etc/shop-nginx/nginx.conf.template}"
mkdir -p "$NGINX_RUN_DIR" "$NGINX_CACHE_DIR"
# Only these names are replaced: nginx's own $variables must reach nginx untouched.
# deploy/local.py renders the same list in Python (tests/deploy checks they agree).
envsubst '${NGINX_LISTEN} ${SHOP_UPSTREAM} ${STATIC_ROOT} ${NGINX_CACHE_DIR} ${NGINX_RUN_DIR} ${NGINX_REAL_IP_FROM}' \
    < "$template" > "$NGINX_RUN_DIR/nginx.conf"
# The log format is included from beside the rendered config (nginx resolves a relative include
# against the directory of the -c file); it has no names to render.
cp "$(dirname "$template")/log-format.conf" "$NGINX_RUN_DIR/log-format.conf"
exec nginx -e stderr -c "$NGINX_RUN_DIR/nginx.conf" "$@"
