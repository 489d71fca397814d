"""The example project's web application: a small WSGI app that gunicorn
serves on port 5000 (the berth-example-app image's command), shaped like the
typical Django deployment berth is built around, without needing Django:

  GET /           counts the visit in Redis (host REDIS_HOST, "redis") and
                  records it in MariaDB (host MYSQL_HOST, "mysql"; the table is
                  created on first use), and shows both numbers
  POST /upload    stores a file in APP_DATA/media (a multipart form field
                  "file", or the raw body with ?name=FILE), served by nginx
                  at /media/FILE
  GET /healthz    "ok" when the process answers (for healthchecks)

At start (gunicorn --preload imports this module once) it writes its static
files into APP_DATA/static, which nginx serves at /static/.
"""

import email.parser
import email.policy
import html
import json
import os
import re
import time

import pymysql
import redis

APP_DATA = os.environ.get("APP_DATA", "/app_data")
STATIC_DIR = os.path.join(APP_DATA, "static")
MEDIA_DIR = os.path.join(APP_DATA, "media")
REDIS_HOST = os.environ.get("REDIS_HOST", "redis")
MYSQL_HOST = os.environ.get("MYSQL_HOST", "mysql")
MYSQL_DATABASE = os.environ.get("MYSQL_DATABASE", "shop")
MYSQL_USER = os.environ.get("MYSQL_USER", "shop")
MYSQL_PASSWORD = os.environ.get("MYSQL_PASSWORD", "shop")
# How long a request waits for a service that is still starting.
SERVICE_WAIT_SECS = float(os.environ.get("SERVICE_WAIT_SECS", "30"))
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")

STATIC_FILES = {
    "style.css": (
        "/* berth example shop */\n"
        "body { font-family: sans-serif; margin: 3em auto; max-width: 40em; }\n"
        ".value { font-weight: bold; color: #2a6; }\n"
    ),
}


def write_atomically(path, data):
    # Write then rename: nginx never serves a half-written file.
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def write_static_files():
    os.makedirs(STATIC_DIR, exist_ok=True)
    for name, text in STATIC_FILES.items():
        write_atomically(os.path.join(STATIC_DIR, name), text.encode())


def retrying(what, attempt):
    # Services start in any order; a request waits for them (bounded)
    # instead of failing while MariaDB initializes its data directory.
    deadline = time.monotonic() + SERVICE_WAIT_SECS
    while True:
        try:
            return attempt()
        except (redis.exceptions.ConnectionError, pymysql.err.OperationalError) as e:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not answer within {SERVICE_WAIT_SECS:.0f} s: {e}")
            time.sleep(0.5)


_redis = redis.Redis(host=REDIS_HOST, port=6379, socket_timeout=5, socket_connect_timeout=2)


def count_in_redis():
    return int(retrying(f"redis at {REDIS_HOST}", lambda: _redis.incr("shop:hits")))


def record_in_mysql(agent):
    def attempt():
        conn = pymysql.connect(host=MYSQL_HOST, user=MYSQL_USER, password=MYSQL_PASSWORD,
                               database=MYSQL_DATABASE, connect_timeout=2, autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute("CREATE TABLE IF NOT EXISTS visits ("
                            " id BIGINT AUTO_INCREMENT PRIMARY KEY,"
                            " at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,"
                            " agent VARCHAR(255) NOT NULL)")
                cur.execute("INSERT INTO visits (agent) VALUES (%s)", (agent[:255],))
                cur.execute("SELECT COUNT(*) FROM visits")
                return int(cur.fetchone()[0])
        finally:
            conn.close()
    return retrying(f"mariadb at {MYSQL_HOST}", attempt)


def respond(start_response, status, body, content_type="text/html; charset=utf-8"):
    data = body.encode() if isinstance(body, str) else body
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data)))])
    return [data]


def index(environ, start_response):
    hits = count_in_redis()
    visits = record_in_mysql(environ.get("HTTP_USER_AGENT", "-"))
    if "json" in environ.get("QUERY_STRING", ""):
        return respond(start_response, "200 OK", json.dumps({"hits": hits, "visits": visits}),
                       "application/json")
    host = html.escape(os.uname().nodename)
    page = f"""<!doctype html>
<html><head><title>berth example shop</title>
<link rel="stylesheet" href="/static/style.css"></head>
<body><h1>berth example shop</h1>
<p>Redis counter: <span class="value" id="hits">{hits}</span></p>
<p>MariaDB visits: <span class="value" id="visits">{visits}</span></p>
<p>Served by <code>{host}</code> (gunicorn pid {os.getpid()}).</p>
<form method="post" action="/upload" enctype="multipart/form-data">
<input type="file" name="file"> <button>Upload to /media/</button></form>
</body></html>
"""
    return respond(start_response, "200 OK", page)


def read_upload(environ):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length > MAX_UPLOAD_BYTES:
        raise ValueError(f"upload larger than {MAX_UPLOAD_BYTES} bytes")
    body = environ["wsgi.input"].read(length)
    ctype = environ.get("CONTENT_TYPE", "")
    if ctype.startswith("multipart/form-data"):
        head = f"Content-Type: {ctype}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        for part in msg.iter_parts():
            if part.get_param("name", header="content-disposition") == "file":
                return part.get_filename() or "", part.get_payload(decode=True) or b""
        raise ValueError("no form field named 'file'")
    query = dict(p.split("=", 1) for p in environ.get("QUERY_STRING", "").split("&") if "=" in p)
    return query.get("name", ""), body


def upload(environ, start_response):
    try:
        name, data = read_upload(environ)
    except ValueError as e:
        return respond(start_response, "400 Bad Request", f"{e}\n", "text/plain")
    name = os.path.basename(name)
    if not SAFE_NAME.match(name):
        return respond(start_response, "400 Bad Request",
                       "file name must be letters, digits, '.', '_' or '-'\n", "text/plain")
    os.makedirs(MEDIA_DIR, exist_ok=True)
    write_atomically(os.path.join(MEDIA_DIR, name), data)
    return respond(start_response, "201 Created", f"/media/{name}\n", "text/plain")


def application(environ, start_response):
    method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/")
    try:
        if path == "/healthz":
            return respond(start_response, "200 OK", "ok\n", "text/plain")
        if path == "/" and method in ("GET", "HEAD"):
            return index(environ, start_response)
        if path == "/upload" and method == "POST":
            return upload(environ, start_response)
        return respond(start_response, "404 Not Found", "not found\n", "text/plain")
    except RuntimeError as e:
        return respond(start_response, "503 Service Unavailable", f"{e}\n", "text/plain")


write_static_files()
