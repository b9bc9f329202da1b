#!/bin/sh
# `make run`: loads the demo zones from zones/ into run/db and serves them in the
# foreground on 127.0.0.1:5300 and [::1]:5300 until Ctrl-C.
set -eu
cd "$(dirname "$0")/.."
conf=zones/dnsbl.conf
mkdir -p run
./bin/dnsbl-loader -c "$conf" import bl.example zones/bl.example.rbldnsd \
	--format rbldnsd --source demo --replace
./bin/dnsbl-loader -c "$conf" import pbl.example zones/pbl.example.txt \
	--format plain --source demo --replace
echo "serving the demo zones on 127.0.0.1:5300; try:"
echo "  dig @127.0.0.1 -p 5300 2.0.0.127.bl.example A"
echo "  dig @127.0.0.1 -p 5300 1.2.0.192.bl.example TXT"
echo "Ctrl-C stops it."
exec ./bin/dnsbld -c "$conf" -f
