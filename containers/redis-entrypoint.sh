#!/bin/sh
# Stand-in for the official redis image's entrypoint (Debian's Redis 7, not the official
# build): run redis-server as the redis user in /data, reachable from other containers
# (protected mode off, as the official image does when it is given no config file).
set -eu
if [ "${1#-}" != "$1" ]; then
    set -- redis-server "$@"
fi
if [ "$1" = redis-server ]; then
    shift
    case " $* " in
        *" --protected-mode "*) set -- redis-server "$@" ;;
        *) set -- redis-server "$@" --protected-mode no ;;
    esac
    if [ "$(id -u)" = 0 ]; then
        chown redis:redis /data
        exec setpriv --reuid=redis --regid=redis --init-groups "$@"
    fi
fi
exec "$@"
