#!/usr/bin/env bash
# Cross-build ghmicons and fakebmc and run go vet (test files included) for
# every system an operator uses: linux, darwin and freebsd on amd64 and
# arm64, and windows/amd64. Every target is tried; the script then names
# each one that failed and exits 1.
#
#   scripts/crossbuild.sh                 # all targets
#   TARGETS="darwin/arm64" scripts/crossbuild.sh
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"

TARGETS=${TARGETS:-"linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 freebsd/amd64 freebsd/arm64 windows/amd64"}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
failed=()

# step TARGET WHAT CMD...: runs CMD, prints its output only when it fails.
step() {
    local target=$1 what=$2; shift 2
    if "$@" >"$OUT/log" 2>&1; then
        echo "ok    $target  $what"
    else
        echo "FAIL  $target  $what"
        sed 's/^/      /' "$OUT/log"
        failed+=("$target: $what")
    fi
}

for t in $TARGETS; do
    os=${t%/*} arch=${t#*/}
    ext=; [ "$os" = windows ] && ext=.exe
    for cmd in ghmicons fakebmc; do
        step "$t" "go build ./cmd/$cmd" \
            env GOOS="$os" GOARCH="$arch" CGO_ENABLED=0 go build -o "$OUT/$cmd-$os-$arch$ext" "./cmd/$cmd"
    done
    step "$t" "go vet ./..." env GOOS="$os" GOARCH="$arch" CGO_ENABLED=0 go vet ./...
done

echo
if [ "${#failed[@]}" -gt 0 ]; then
    echo "crossbuild: ${#failed[@]} step(s) FAILED:"
    printf '  %s\n' "${failed[@]}"
    exit 1
fi
echo "crossbuild: every target builds and vets: $TARGETS"
