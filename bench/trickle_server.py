"""A loopback server that sends one header line per second for 5 minutes, and an OpenAPI
document for it, to time `cairn tools call` against its time limit:

    python bench/trickle_server.py spec.json &      # prints the port
    cairn tools add-openapi spec.json --allow-host 127.0.0.1 --kb t.sqlite
    time cairn tools call trickle slow --kb t.sqlite   # ends at the 20 s limit
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time


def _one(conn: socket.socket) -> None:
    conn.recv(4096)
    try:
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        for i in range(300):
            conn.sendall(f"X-{i}: a\r\n".encode())
            time.sleep(1)
    except OSError:
        pass


def main(spec_path: str) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    port = sock.getsockname()[1]
    spec = {
        "openapi": "3.0.0",
        "info": {"title": "Trickle", "version": "1"},
        "servers": [{"url": f"http://127.0.0.1:{port}"}],
        "paths": {"/slow": {"get": {"operationId": "slow"}}},
    }
    with open(spec_path, "w", encoding="utf-8") as f:
        json.dump(spec, f)
    print(port, flush=True)
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=_one, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main(sys.argv[1])
