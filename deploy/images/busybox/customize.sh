#!/bin/sh
# The extract variant unpacks busybox-static and nothing else: link every applet to it.
set -eu
root="$1"
for applet in $("$root/bin/busybox" --list); do
  [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
