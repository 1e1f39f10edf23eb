#!/bin/sh
# Build the man pages: docs/*.8.rst -> OUTDIR/*.8, with rst2man (docutils)
# or, failing that, pandoc. Usage: tools/build-man.sh OUTDIR
set -eu
out=${1:?usage: build-man.sh OUTDIR}
src=$(dirname "$0")/../docs

if command -v rst2man >/dev/null 2>&1; then
	convert() { rst2man --halt=warning "$1" "$2"; }
elif command -v pandoc >/dev/null 2>&1; then
	convert() { pandoc -s -f rst -t man "$1" -o "$2"; }
else
	echo "build-man.sh: neither rst2man nor pandoc found" >&2
	exit 1
fi

mkdir -p "$out"
for page in "$src"/*.8.rst; do
	[ -e "$page" ] || continue
	name=$(basename "$page" .rst)
	convert "$page" "$out/$name.tmp"
	mv "$out/$name.tmp" "$out/$name"
done
