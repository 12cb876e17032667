#!/bin/bash
# Run a command in a private network namespace that has only lo and a veth
# pair with TEST-NET addresses and default routes (passt needs a routable
# interface), and a resolv.conf that points at 127.0.0.1: nothing the
# command sends can leave the machine.
#   scripts/netns-run.sh COMMAND [ARGS...]
set -euo pipefail

if [ "${PASST_QEMU_NETNS:-}" != inside ]; then
    export PASST_QEMU_NETNS=inside
    exec unshare --net --mount --propagation private -- "$0" "$@"
fi

ip link set lo up
ip link add veth0 type veth peer name veth1
ip addr add 192.0.2.1/24 dev veth0
ip -6 addr add 2001:db8::1/64 dev veth0 nodad
ip link set veth0 up
ip link set veth1 up
ip route add default via 192.0.2.2
ip -6 route add default via 2001:db8::2

resolv=$(mktemp)
echo "nameserver 127.0.0.1" > "$resolv"
chmod 644 "$resolv"
mount --bind "$resolv" /etc/resolv.conf
rm -f "$resolv"

exec "$@"
