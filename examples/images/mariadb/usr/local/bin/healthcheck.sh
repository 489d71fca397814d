#!/bin/sh
# Healthy when the server answers a query over its unix socket (root@localhost
# logs in by socket credentials, no password needed).
exec mariadb --protocol=socket -uroot -e 'SELECT 1' >/dev/null
