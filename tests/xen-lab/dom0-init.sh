#!/bin/sh
# /init of the Xen lab's dom0 (installed by tests/xen-lab/run.sh).
#
# Mirrors what systemd + /etc/init.d/xen do on Debian 12, minus
# xenconsoled: the hypervisor is the console backend of the attached domU,
# and sccrypt-consoled (xen backend) is the dom0 relay.  Then: network +
# sshd for the host, the domU created paused, its console attached to the
# hypervisor (sccrypt-xenctl attach), unpaused; a second domU (domu2) stays
# unattached as the control case of the mapping probe.  Markers on the
# serial console: SCCRYPT-ATTACH-OK / -FAIL, SCCRYPT-LAB-READY.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
hostname dom0

for m in xenfs xen-evtchn xen-gntdev xen-gntalloc xen-privcmd e1000; do
	modprobe "$m" || echo "LAB: modprobe $m failed"
done
mount -t xenfs xenfs /proc/xen
mkdir -p -m 700 /run/xen
mkdir -p /run/xenstored /var/lib/xen /var/log/xen /var/run/sshd /run/sccrypt /var/log/sccrypt

XENSTORED_ROOTDIR=/run/xenstored /usr/lib/xen-4.17/bin/oxenstored --pid-file /run/xenstore.pid
i=0
until xenstore-read -s / >/dev/null 2>&1; do
	i=$((i + 1)); [ "$i" -lt 30 ] || break; sleep 1
done
/usr/lib/xen-4.17/bin/xen-init-dom0
echo "LAB: xenstored up; $(xl info | grep -E '^xen_(version|extra)' | tr '\n' ' ')"

# Network and sshd for the host (QEMU user networking defaults).
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
/usr/sbin/sshd -E /var/log/sshd.log

# The dom0 relay.
cat >/etc/sccrypt/sccrypt.conf <<'EOF'
backend = xen
log_dir = /var/log/sccrypt
allow root domu1
EOF
chmod 644 /etc/sccrypt/sccrypt.conf
/usr/sbin/sccrypt-consoled -F -f /etc/sccrypt/sccrypt.conf >/var/log/sccrypt-consoled.log 2>&1 &
echo "LAB: sccrypt-consoled started (pid $!)"
sccrypt-xenctl info 2>&1 | sed 's/^/LAB: xenctl: /'

# No xenconsoled: it would map every console as soon as `xl create`
# introduces the domain.  libxl still waits (10 s) for a console daemon to
# publish console/tty; publish a placeholder for every domain, so `xl
# create` completes (the consoles are reached through sccrypt-console only).
(
	while true; do
		for id in $(xenstore-list /local/domain 2>/dev/null); do
			[ "$id" = 0 ] && continue
			t=$(xenstore-read "/local/domain/$id/console/tty" 2>/dev/null) || continue
			[ -z "$t" ] && xenstore-write "/local/domain/$id/console/tty" "sccrypt:$id"
		done
		sleep 1
	done
) &

# The protected domU: created paused, attached, unpaused.
if xl create -p /etc/xen/domu1.cfg >/var/log/xl-domu1.log 2>&1; then
	out=$(sccrypt-xenctl attach domu1 2>&1)
	rc=$?
	echo "$out" | sed 's/^/LAB: sccrypt-xenctl: /'
	if [ "$rc" -eq 0 ]; then
		echo "SCCRYPT-ATTACH-OK"
	else
		echo "SCCRYPT-ATTACH-FAIL: exit $rc"
	fi
	xl unpause domu1
else
	echo "SCCRYPT-ATTACH-FAIL: xl create: $(tail -n 3 /var/log/xl-domu1.log)"
fi
# The control domU: never attached.
xl create /etc/xen/domu2.cfg >/var/log/xl-domu2.log 2>&1 || echo "LAB: domu2 failed"
xl list
echo "SCCRYPT-LAB-READY"

# Stay up until the host powers us off; reap children.
while true; do
	sleep 3600
done
