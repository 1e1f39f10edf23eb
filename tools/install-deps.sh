#!/bin/sh
# Install what building, testing and the demo need on Debian 12; quiet when
# everything is already there.
set -e
PKGS="clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libnl-3-dev libnl-route-3-dev
libyaml-dev libcurl4-openssl-dev libmicrohttpd-dev libc-ares-dev libcmocka-dev pkg-config make gcc
iproute2 iputils-ping nftables ethtool nginx-light dnsmasq-base curl wrk dnsutils jq gnuplot-nox perl
prometheus python3-docutils"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "veer: installing:$missing" >&2
if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
