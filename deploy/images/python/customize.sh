#!/bin/sh
# The python:3.11-slim interface the fleet's Dockerfile relies on: `python` on PATH.
set -eu
root="$1"
mkdir -p "$root/usr/local/bin"
ln -sf /usr/bin/python3.11 "$root/usr/local/bin/python"
ln -sf /usr/bin/python3.11 "$root/usr/local/bin/python3"
