# portbroker: after removal, delete the firewall table a crashed broker may
# have left, the state and run directories, and the handlers folder if empty.
# The portbroker user stays (a reused uid would own files it never wrote).
if [ "$1" -eq 0 ]; then
    if command -v nft >/dev/null 2>&1; then
        nft delete table inet portbroker >/dev/null 2>&1 || :
    fi
    rm -rf /var/lib/portbroker /run/portbroker
    rmdir --ignore-fail-on-non-empty /etc/portbroker/handlers /etc/portbroker/tls /etc/portbroker 2>/dev/null || :
fi
if [ -d /run/systemd/system ]; then
    systemctl --system daemon-reload >/dev/null 2>&1 || :
fi
