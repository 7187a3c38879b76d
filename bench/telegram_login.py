"""Telegram Mini App login against a release `clpr serve`: 200 sequential first logins (initData check, user +
clpr_users_tg upsert, session), then 3 rounds of 20 parallel first logins of one new Telegram id.
Usage: python3 bench/telegram_login.py [postgres://… (a database clpr may migrate)]   (SQLite without an argument)"""
import pathlib
import hashlib, hmac, json, os, subprocess, sys, tempfile, time, urllib.parse, urllib.request, socket, statistics
from concurrent.futures import ThreadPoolExecutor
ROOT = pathlib.Path(__file__).resolve().parents[1]
TOKEN = "123456789:AAmeasure"
def init_data(tid):
    user = json.dumps({"id": tid, "first_name": "Иван"}, ensure_ascii=False)
    f = {"auth_date": str(int(time.time())), "user": user}
    dcs = "\n".join(f"{k}={f[k]}" for k in sorted(f))
    f["hash"] = hmac.new(hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest(), dcs.encode(), hashlib.sha256).hexdigest()
    return urllib.parse.urlencode(f)
def post(base, body):
    r = urllib.request.Request(base + "/api/v1/auth/telegram", data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"})
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(r, timeout=10) as x: s = x.status; u = json.loads(x.read())["user"]["unified_id"]
    except urllib.error.HTTPError as e: s = e.code; u = None
    return s, u, time.perf_counter() - t
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
data = tempfile.mkdtemp()
env = {**{k: v for k, v in os.environ.items() if not k.startswith("CLPR_")}, "CLPR_PORT": str(port), "CLPR_DATA_DIR": data,
       "CLPR_WEB_DIR": str(ROOT / "web"), "CLPR_TELEGRAM_BOT_TOKEN": TOKEN, "CLPR_LOG_LEVEL": "warning"}
if len(sys.argv) > 1: env["CLPR_DATABASE_URL"] = sys.argv[1]
p = subprocess.Popen([str(ROOT / ".build/release/clpr"), "serve"], env=env, stderr=subprocess.DEVNULL)
base = f"http://127.0.0.1:{port}"
for _ in range(100):
    try: urllib.request.urlopen(base + "/healthz", timeout=1); break
    except OSError: time.sleep(0.1)
try:
    lat = [post(base, {"init_data": init_data(1000 + i)})[2] for i in range(200)]
    lat.sort()
    print(f"200 sequential first Telegram logins: p50 {statistics.median(lat)*1000:.1f} ms, p95 {lat[189]*1000:.1f} ms")
    for rnd in range(3):
        d = init_data(900000 + rnd)
        t = time.perf_counter()
        with ThreadPoolExecutor(20) as ex: res = list(ex.map(lambda _: post(base, {"init_data": d}), range(20)))
        wall = time.perf_counter() - t
        print(f"20 parallel first logins of one new Telegram id: {sum(r[0]==200 for r in res)}x200, {sum(r[0]>=500 for r in res)}x5xx, {len({r[1] for r in res})} unified_id, wall {wall*1000:.0f} ms")
finally:
    p.terminate(); p.wait()
