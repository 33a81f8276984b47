#!/bin/sh
# /init of the Xen lab's dom0 (installed by tests/xen-lab/run.sh).
#
# Mirrors what systemd + /etc/init.d/xen do on Debian 12: xenstored,
# xenconsoled (the SCCrypt-patched build run.sh installed over Debian's,
# started as Debian's init script starts it, with --log=guest), plus
# syslogd for xenconsoled's messages.  Then: network + sshd for the host,
# sccrypt-consoled (xen backend: the dom0 relay), domu1 created paused
# (xenconsoled connects its console, as for every domain), its console
# taken over by the hypervisor (sccrypt-xenctl attach: console/type =
# sccrypt, xenconsoled lets go, Xen attaches), unpaused; domu2 is created
# normally and stays xenconsoled's (`xl console` works for it; the control
# case of the mapping probe).  Markers on the serial console:
# SCCRYPT-ATTACH-OK / -FAIL, LAB-XC: lines (xenconsoled's hold on domu1's
# console before and after the takeover), SCCRYPT-LAB-READY.
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
mkdir -p /run/xenstored /run/lock /var/lib/xen /var/log/xen/console /var/run/sshd /run/sccrypt /var/log/sccrypt
busybox syslogd -O /var/log/messages

XENSTORED_ROOTDIR=/run/xenstored /usr/lib/xen-4.17/bin/oxenstored --pid-file /run/xenstore.pid
i=0
until xenstore-read -s / >/dev/null 2>&1; do
	i=$((i + 1)); [ "$i" -lt 30 ] || break; sleep 1
done
/usr/lib/xen-4.17/bin/xen-init-dom0
echo "LAB: xenstored up; $(xl info | grep -E '^xen_(version|extra)' | tr '\n' ' ')"
# As /etc/init.d/xen does (XENCONSOLED_TRACE=guest): a daemon with a pid file.
/usr/sbin/xenconsoled --pid-file /run/xenconsoled.pid --log=guest \
    --log-dir=/var/log/xen/console
i=0
until [ -s /run/xenconsoled.pid ]; do
	i=$((i + 1)); [ "$i" -lt 30 ] || break; sleep 1
done
xcpid=$(cat /run/xenconsoled.pid 2>/dev/null)
echo "LAB: xenconsoled started (pid $xcpid)"

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

# What xenconsoled holds of a domain's console: the console/tty node, its
# grant mappings (of /dev/xen/gntdev), its event-channel fds, the state of
# the guest's console port, the size of the guest's log.
xc_state() {	# xc_state DOMID NAME
	t=$(xenstore-read "/local/domain/$1/console/tty" 2>/dev/null) || t=absent
	p=$(xenstore-read "/local/domain/$1/console/port" 2>/dev/null)
	port=$(/usr/lib/xen-4.17/bin/lsevtchn "$1" 2>/dev/null |
	    sed -n "s/^ *$p: //p" | tr -s ' ' | tr ' ' '_')
	printf 'tty=%s gntdev-maps=%s evtchn-fds=%s port=%s log-bytes=%s alive=%s\n' \
	    "$t" "$(grep -c /dev/xen/gntdev "/proc/$xcpid/maps" 2>/dev/null)" \
	    "$(ls -l "/proc/$xcpid/fd" 2>/dev/null | grep -c /dev/xen/evtchn)" \
	    "${port:-?}" "$(stat -c %s "/var/log/xen/console/guest-$2.log" 2>/dev/null || echo none)" \
	    "$(kill -0 "$xcpid" 2>/dev/null && echo yes || echo no)"
}

# The protected domU: created paused (xenconsoled connects its console at
# once), taken over by the hypervisor, unpaused.
if lab-xl-create -p /etc/xen/domu1.cfg >/var/log/xl-domu1.log 2>&1; then
	id=$(xl domid domu1)
	echo "LAB-XC: before-attach $(xc_state "$id" domu1)"
	out=$(sccrypt-xenctl attach domu1 2>&1)
	rc=$?
	echo "$out" | sed 's/^/LAB: sccrypt-xenctl: /'
	sleep 1
	echo "LAB-XC: after-attach $(xc_state "$id" domu1)"
	grep -a 'xenconsoled.*Released the console' /var/log/messages | sed 's/^/LAB-XC: syslog: /'
	if [ "$rc" -eq 0 ]; then
		echo "SCCRYPT-ATTACH-OK"
	else
		echo "SCCRYPT-ATTACH-FAIL: exit $rc"
	fi
	xl unpause domu1
else
	echo "SCCRYPT-ATTACH-FAIL: xl create: $(tail -n 3 /var/log/xl-domu1.log)"
fi
# The unprotected domU: xenconsoled's, never attached.
lab-xl-create /etc/xen/domu2.cfg >/var/log/xl-domu2.log 2>&1 || echo "LAB: domu2 failed"
xl list
echo "SCCRYPT-LAB-READY"

# Stay up until the host powers us off; reap children.
while true; do
	sleep 3600
done
