#!/usr/bin/env bash
# Install the man pages and the bash and zsh completion of ghmicons and
# fakebmc (the committed, generated files: no Go needed).
#
#   scripts/install-docs.sh [PREFIX]         # default /usr/local
#   DESTDIR=/tmp/pkg scripts/install-docs.sh /usr   # for packaging
#
# Installs
#   PREFIX/share/man/man1/ghmicons.1, fakebmc.1
#   PREFIX/share/bash-completion/completions/ghmicons, fakebmc
#   PREFIX/share/zsh/site-functions/_ghmicons, _fakebmc
# Those are the directories bash-completion and zsh search under /usr and,
# on most systems, /usr/local; elsewhere point BASH_COMPLETION_DIR or
# ZSH_SITE_FUNCTIONS_DIR at the right one (e.g. Homebrew's
# $(brew --prefix)/share/zsh/site-functions). The files are regenerated from
# the flags with `go generate ./...`.
set -euo pipefail
cd "$(dirname "$0")/.."

PREFIX=${1:-/usr/local}
DESTDIR=${DESTDIR:-}
MAN_DIR=${MAN_DIR:-$PREFIX/share/man/man1}
BASH_COMPLETION_DIR=${BASH_COMPLETION_DIR:-$PREFIX/share/bash-completion/completions}
ZSH_SITE_FUNCTIONS_DIR=${ZSH_SITE_FUNCTIONS_DIR:-$PREFIX/share/zsh/site-functions}

put() { # put DIR FILE...
    local dir=$DESTDIR$1; shift
    install -d -m 0755 "$dir"
    for f in "$@"; do
        install -m 0644 "$f" "$dir/"
        echo "install-docs: $dir/$(basename "$f")"
    done
}

put "$MAN_DIR" man/ghmicons.1 man/fakebmc.1
put "$BASH_COMPLETION_DIR" completions/bash/ghmicons completions/bash/fakebmc
put "$ZSH_SITE_FUNCTIONS_DIR" completions/zsh/_ghmicons completions/zsh/_fakebmc
if [ -z "$DESTDIR" ] && command -v mandb >/dev/null 2>&1; then
    mandb -q "$PREFIX/share/man" 2>/dev/null || true
fi
