"""Login flood for bench/soak.sh: CONNS threads, each POSTing /api/login over a new
connection from a random source address in 127.0.0.0/8 until DURATION seconds pass.
Prints a JSON object: counts per status, socket errors, attempts."""
import json
import random
import socket
import sys
import threading
import time

port, duration, conns = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
users = sys.argv[4].split(",")
password = sys.argv[5]
lock = threading.Lock()
statuses: dict[str, int] = {}
errors = 0
deadline = time.monotonic() + duration


def attempt(rng: random.Random) -> str:
    src = f"127.{rng.randrange(0, 256)}.{rng.randrange(0, 256)}.{rng.randrange(1, 255)}"
    roll = rng.random()
    if roll < 0.4:
        user, pw = rng.choice(users), password  # right password
    elif roll < 0.8:
        user, pw = rng.choice(users), "wrong-password-123"
    else:
        user, pw = f"nobody{rng.randrange(1000)}", "wrong-password-123"
    body = json.dumps({"username": user, "password": pw}).encode()
    req = (
        f"POST /api/login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    with socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(src, 0)) as s:
        s.sendall(req)
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/1.1 ") else "malformed"


def worker(seed: int) -> None:
    global errors
    rng = random.Random(seed)
    while time.monotonic() < deadline:
        try:
            code = attempt(rng)
            with lock:
                statuses[code] = statuses.get(code, 0) + 1
        except OSError:
            with lock:
                errors += 1


threads = [threading.Thread(target=worker, args=(i,)) for i in range(conns)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps({"statuses": statuses, "errors": errors, "attempts": sum(statuses.values()) + errors}))
