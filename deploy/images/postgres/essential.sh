#!/bin/sh
# Runs after the essential packages, before postgresql-15 is unpacked.
set -eu
root="$1"
# The postgres user and group of the official image (999), which deploy/k8s/postgres.yaml
# runs as; postgresql-common's postinst keeps an existing postgres user.
grep -q '^postgres:' "$root/etc/group" || echo 'postgres:x:999:' >> "$root/etc/group"
grep -q '^postgres:' "$root/etc/passwd" ||
  echo 'postgres:x:999:999:PostgreSQL administrator:/var/lib/postgresql:/bin/bash' >> "$root/etc/passwd"
if [ -f "$root/etc/shadow" ] && ! grep -q '^postgres:' "$root/etc/shadow"; then
  echo 'postgres:*:19000:0:99999:7:::' >> "$root/etc/shadow"
fi
# No cluster at install time: the entrypoint runs initdb into PGDATA on first start.
mkdir -p "$root/etc/postgresql-common/createcluster.d"
echo 'create_main_cluster = false' > "$root/etc/postgresql-common/createcluster.d/no-main-cluster.conf"
