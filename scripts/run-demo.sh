#!/bin/sh
# `make run`: loads the demo zones from zones/ into run/db and serves them in the
# foreground until Ctrl-C: DNS on 127.0.0.1:5300 and [::1]:5300 (dnsbld), the API on
# 127.0.0.1:8053 (dnsbl-api).
set -eu
cd "$(dirname "$0")/.."
conf=zones/dnsbl.conf
mkdir -p run
./bin/dnsbl-loader -c "$conf" import bl.example zones/bl.example.rbldnsd \
	--format rbldnsd --source demo --replace
./bin/dnsbl-loader -c "$conf" import pbl.example zones/pbl.example.txt \
	--format plain --source demo --replace
./bin/dnsbl-loader -c "$conf" import wl.example zones/wl.example.rbldnsd \
	--format rbldnsd --source demo --replace
./bin/dnsbl-loader -c "$conf" import dbl.example zones/dbl.example.dnset \
	--format rbldnsd --source demo --replace
# A demo admin token, made once. A real deployment keeps no secret on disk; the demo
# keeps this one in run/demo-token so that every `make run` can show it.
if [ ! -s run/demo-token ]; then
	./bin/dnsbl-api -c "$conf" token remove demo >/dev/null 2>&1 || true
	(umask 077 && ./bin/dnsbl-api -c "$conf" token add demo admin | awk '{print $NF}' \
		>run/demo-token)
fi
token=$(cat run/demo-token)
./bin/dnsbl-api -c "$conf" -f &
api=$!
trap 'kill "$api" 2>/dev/null || true; wait "$api" 2>/dev/null || true' EXIT INT TERM
echo "serving the demo zones: DNS on 127.0.0.1:5300, API on 127.0.0.1:8053; try:"
echo "  dig @127.0.0.1 -p 5300 2.0.0.127.bl.example A"
echo "  dig @127.0.0.1 -p 5300 1.2.0.192.bl.example TXT"
echo "  dig @127.0.0.1 -p 5300 www.phish.example.dbl.example TXT"
echo "  dig @127.0.0.1 -p 5300 1.0.0.10.zen.example A"
echo "  curl -H 'Authorization: Bearer $token' http://127.0.0.1:8053/v1/lookup/192.0.2.1"
echo "Ctrl-C stops both."
./bin/dnsbld -c "$conf" -f
