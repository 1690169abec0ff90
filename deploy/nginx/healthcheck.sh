#!/bin/bash
# The nginx container's health check (no curl in the image): nginx answers /nginx-health.
set -euo pipefail
port="${NGINX_LISTEN:-8080}"
port="${port##*:}"
exec 3<>"/dev/tcp/127.0.0.1/${port}"
printf 'GET /nginx-health HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
head -n 1 <&3 | grep -q ' 200 '
