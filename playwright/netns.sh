#!/usr/bin/env bash
# Run a command inside a private network namespace made here (unshare -n, as root): nothing the
# browser, the relay or the peers send can leave the machine. A veth pair with a default route
# gives Chromium host ICE candidates without loopback-only flags (see BROWSER-TESTING.md in the
# shared notes). The namespace dies with the command.
set -euo pipefail
if [ "${MESHWORK_IN_NETNS:-}" != 1 ]; then
  exec unshare -n env MESHWORK_IN_NETNS=1 bash "$0" "$@"
fi
ip link set lo up
ip link add mw0 type veth peer name mw1
ip addr add 10.99.0.1/24 dev mw0
ip addr add 10.99.0.2/24 dev mw1
ip link set mw0 up
ip link set mw1 up
ip route add default via 10.99.0.2 dev mw0
exec "$@"
