#!/bin/sh
# Render config/asterisk/ templates into /etc/asterisk (the variables scripts/asterisk.sh fills in), then run
# Asterisk in the foreground as its own user.
set -eu
: "${ARI_USERNAME:?ARI_USERNAME is required}"
: "${ARI_PASSWORD:?ARI_PASSWORD is required}"
export ASTERISK_SIP_PORT="${ASTERISK_SIP_PORT:-5060}"
export ASTERISK_VERBOSE="${ASTERISK_VERBOSE:-0}"
export ASTERISK_BIND="${ASTERISK_BIND:-0.0.0.0}"
find /etc/asterisk -mindepth 1 -delete
# shellcheck disable=SC2016,SC2094 # envsubst takes the variable names literally; input and output differ
for f in /opt/waihu/asterisk-templates/*.conf; do
  envsubst '${ARI_USERNAME} ${ARI_PASSWORD} ${ASTERISK_SIP_PORT} ${ASTERISK_VERBOSE} ${ASTERISK_BIND}' <"$f" >"/etc/asterisk/$(basename "$f")"
done
chown -R asterisk:asterisk /etc/asterisk
install -d -o asterisk -g asterisk /run/asterisk /var/spool/asterisk/recording
# The prompts volume is written by the worker (another container, another uid) and read by Asterisk.
install -d -m 0777 /usr/share/asterisk/sounds/custom/waihu
exec /usr/sbin/asterisk -f -n -U asterisk -G asterisk
