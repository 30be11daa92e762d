#!/usr/bin/env bash
# Install the Debian packages Skillmap needs when they are missing and we can (root + apt).
# Usage: deploy/system-deps.sh PACKAGE...   (bubblewrap provides bwrap; chromium for browser tests;
# nodejs grades JavaScript and TypeScript, and npm, installed with it when missing, fetches the
# pinned TypeScript compiler; golang-go grades Go: Debian's Go 1.19 with its precompiled
# standard library; openjdk-17-jdk-headless grades Java; prometheus provides promtool, which
# checks deploy/prometheus; iproute2 (ip) and socat let the two-host worker test build its
# network namespaces)
set -euo pipefail
arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
declare -A binary=([bubblewrap]=bwrap [chromium]=chromium [nodejs]=node [npm]=npm [golang-go]=go
  [openjdk-17-jdk-headless]=/usr/lib/jvm/java-17-openjdk-$arch/bin/javac
  [prometheus]=promtool [iproute2]=ip)
missing=()
for pkg in "$@"; do
  command -v "${binary[$pkg]:-$pkg}" >/dev/null 2>&1 || missing+=("$pkg")
  if [ "$pkg" = nodejs ] && ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${missing[*]} with apt-get…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "!! Missing ${missing[*]} and cannot install them here (needs root and apt-get)." >&2
  echo "!! Install them with your package manager; without bubblewrap, code grading is unavailable." >&2
fi
