# portbroker: stop and disable the service when the package goes away.
if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then
    systemctl --no-reload disable --now portbroker.service >/dev/null 2>&1 || :
fi
