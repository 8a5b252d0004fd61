#!/usr/bin/env bash
# The Debian packages lb-operator needs outside npm, by purpose, and the one place that installs them.
#
#   system-packages.sh ensure build   what `npm ci` needs to compile cap (the libpcap binding): a compiler, make,
#                                     python3 (node-gyp), libpcap-dev
#   system-packages.sh ensure all     build + what the lab and the tests run: nftables, iptables (kube-proxy's
#                                     iptables mode), iproute2, arping, iperf3, haproxy, openssl, python3-venv (moto),
#                                     podman, runc, mmdebstrap (the image: scripts/build-image.sh, image.test.ts)
#   system-packages.sh check <group>  only report
#
# Called by `npm ci` (scripts/rebuild-native.sh, before cap is compiled), `npm test` and `npm run lab`, so the
# README's two commands are the whole set-up on a Debian machine. As root, missing packages are installed with
# apt-get's own progress; otherwise it prints the one command to run and exits 1. Nothing is done when all are there.
set -euo pipefail

mode="${1:-}"
group="${2:-all}"
BUILD=(g++ make python3 libpcap-dev)
LAB=(nftables iptables iproute2 arping iperf3 haproxy openssl python3-venv podman runc mmdebstrap)
case "$group" in
  build) wanted=("${BUILD[@]}") ;;
  all) wanted=("${BUILD[@]}" "${LAB[@]}") ;;
  *) echo "system-packages: unknown group '$group' (build, all)" >&2; exit 2 ;;
esac
case "$mode" in
  ensure | check) ;;
  *) echo "usage: system-packages.sh ensure|check build|all" >&2; exit 2 ;;
esac

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
  # Not Debian: say what is needed by name and leave it to the user's package manager.
  for cmd in nft ip g++ make python3; do
    command -v "$cmd" >/dev/null || { echo "system-packages: not a Debian system and '$cmd' is missing; lb-operator needs: ${wanted[*]} (Debian names)" >&2; exit 1; }
  done
  exit 0
fi

missing=()
for pkg in "${wanted[@]}"; do installed "$pkg" || missing+=("$pkg"); done
[ ${#missing[@]} -eq 0 ] && exit 0

command_line="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$mode" = check ] || [ "$(id -u)" -ne 0 ]; then
  {
    echo "system-packages: lb-operator needs these Debian packages, which are not installed: ${missing[*]}"
    echo "system-packages: install them as root, then run the command again:"
    echo "  sudo sh -c '$command_line'"
  } >&2
  exit 1
fi

echo "system-packages: installing ${#missing[@]} Debian package(s) lb-operator needs ($group): ${missing[*]}" >&2
started=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
echo "system-packages: apt-get update" >&2
apt-get update -q >&2
echo "system-packages: apt-get install ${missing[*]}" >&2
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
echo "system-packages: installed ${missing[*]} in $(( $(date +%s) - started )) s" >&2
