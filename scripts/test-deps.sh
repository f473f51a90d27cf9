#!/usr/bin/env bash
# What `pnpm test` needs beyond npm packages: a real redis-server on the PATH (the @plangate/redis
# tests start their own on a free loopback port). Installs Debian's package when it is missing and
# this is a root shell with apt-get, as on a fresh machine; otherwise says how.
set -euo pipefail
command -v redis-server > /dev/null && exit 0
if [[ $(id -u) -eq 0 ]] && command -v apt-get > /dev/null; then
  echo "test: installing redis-server (Debian's package) for the @plangate/redis tests" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server > /dev/null
  exit 0
fi
echo "test: the @plangate/redis tests need redis-server on the PATH: install it (Debian: apt-get install redis-server) and run the tests again." >&2
exit 1
