#!/bin/sh
# The berth-example-mariadb entrypoint, after the official mariadb image's:
# on the first start (an empty /var/lib/mysql) it creates the system tables
# with mariadb-install-db, then the database and users the environment asks
# for, and finally execs mariadbd (which drops to the mysql user itself).
#   MARIADB_ROOT_PASSWORD   root@'%' with this password (root@localhost keeps
#                           unix-socket login, which the healthcheck uses)
#   MARIADB_DATABASE        a database to create
#   MARIADB_USER, MARIADB_PASSWORD   a user with every right on that database
# The MYSQL_* names are accepted too. Other commands run as given.
set -eu

if [ "${1#-}" != "$1" ]; then
  set -- mariadbd "$@"
fi
[ "$1" = mariadbd ] || [ "$1" = mysqld ] || exec "$@"

log() { echo "entrypoint: $*" >&2; }

# SQL string and identifier literals from the environment.
sql_string() { printf "'%s'" "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/''/g")"; }
# shellcheck disable=SC2016 # backquotes are SQL's, not the shell's
sql_ident() { printf '`%s`' "$(printf '%s' "$1" | sed 's/`/``/g')"; }

datadir=/var/lib/mysql
mkdir -p "$datadir" /run/mysqld
chown mysql:mysql "$datadir" /run/mysqld

if [ ! -d "$datadir/mysql" ]; then
  root_password=${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:-}}
  database=${MARIADB_DATABASE:-${MYSQL_DATABASE:-}}
  user=${MARIADB_USER:-${MYSQL_USER:-}}
  password=${MARIADB_PASSWORD:-${MYSQL_PASSWORD:-}}
  if [ -n "$user" ] && [ -z "$password" ]; then
    log "MARIADB_USER is set without MARIADB_PASSWORD"
    exit 1
  fi
  log "initializing $datadir"
  mariadb-install-db --user=mysql --datadir="$datadir" --skip-test-db \
    --skip-name-resolve --auth-root-authentication-method=socket >/tmp/install-db.log 2>&1 \
    || { cat /tmp/install-db.log >&2; exit 1; }
  init=/run/mysqld/init.sql
  {
    # The bootstrap server starts without the grant tables: load them, or
    # account statements fail.
    echo "FLUSH PRIVILEGES;"
    echo "SET @@SESSION.SQL_LOG_BIN=0;"
    echo "DELETE FROM mysql.global_priv WHERE User='';"
    if [ -n "$root_password" ]; then
      echo "CREATE USER 'root'@'%' IDENTIFIED BY $(sql_string "$root_password");"
      echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    fi
    if [ -n "$database" ]; then
      echo "CREATE DATABASE IF NOT EXISTS $(sql_ident "$database");"
    fi
    if [ -n "$user" ]; then
      echo "CREATE USER $(sql_string "$user")@'%' IDENTIFIED BY $(sql_string "$password");"
      [ -z "$database" ] \
        || echo "GRANT ALL ON $(sql_ident "$database").* TO $(sql_string "$user")@'%';"
    fi
    echo "FLUSH PRIVILEGES;"
  } >"$init"
  # The bootstrap server reads SQL on stdin and exits: the data is ready
  # before the real server opens its port, so a client never sees a
  # half-initialized database.
  mariadbd --user=mysql --datadir="$datadir" --bootstrap --skip-networking <"$init" \
    >/tmp/bootstrap.log 2>&1 || { cat /tmp/bootstrap.log >&2; rm -f "$init"; exit 1; }
  rm -f "$init"
  log "initialized${database:+ (database $database)}${user:+, user $user}"
fi

exec "$@"
