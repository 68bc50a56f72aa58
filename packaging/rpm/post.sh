# portbroker: the worker user, the run and state directories, and the unit.
if command -v systemd-sysusers >/dev/null 2>&1; then
    systemd-sysusers portbroker.conf || :
elif ! getent passwd portbroker >/dev/null; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin portbroker || :
fi
if command -v systemd-tmpfiles >/dev/null 2>&1; then
    systemd-tmpfiles --create portbroker.conf || :
else
    install -d -m 0700 /var/lib/portbroker
fi
if [ -d /run/systemd/system ]; then
    systemctl --system daemon-reload >/dev/null 2>&1 || :
    if [ "$1" -eq 1 ]; then
        systemctl --no-reload preset portbroker.service >/dev/null 2>&1 || :
    else
        systemctl try-restart portbroker.service >/dev/null 2>&1 || :
    fi
fi
