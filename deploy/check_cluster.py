"""Black-box checks of a running Fidelis behind its proxy, over HTTP only (no project imports):
concurrent earns add up, an idempotent retry repeats its answer, concurrent redemptions never
overspend, another partner cannot see or reverse a partner's transaction, and both web nodes served.

    python deploy/check_cluster.py http://127.0.0.1:8400 <key of partner A> <key of partner B>
"""

import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests

EARNS, REDEEMS = 40, 12


def main(base: str, key_a: str, key_b: str) -> int:
    api = f"{base}/api/v1"
    a, b = _session(key_a), _session(key_b)
    served = Counter()
    failures: list[str] = []

    def check(condition: bool, message: str) -> None:
        print(("ok   " if condition else "FAIL ") + message)
        if not condition:
            failures.append(message)

    run = uuid.uuid4().hex[:8]
    enrolled = a.post(f"{api}/members", json={"email": f"cluster-{run}@example.com"}, timeout=30)
    check(enrolled.status_code == 201, f"enroll a member: {enrolled.status_code}")
    number = enrolled.json()["number"]
    start = a.get(f"{api}/members/{number}/balance", timeout=30).json()  # a welcome gift, if any
    before_earns = {entry["id"] for entry in _entries(a, f"{api}/members/{number}/transactions")}

    def ledger_since_start() -> tuple[int, list[dict]]:
        """The balance gained since enrolment and the entries listed since, read until they agree."""
        for _ in range(30):
            balance = a.get(f"{api}/members/{number}/balance", timeout=30).json()
            gained = balance["available"] + balance["pending"] - start["available"] - start["pending"]
            entries = [e for e in _entries(a, f"{api}/members/{number}/transactions") if e["id"] not in before_earns]
            if gained == sum(e["points"] for e in entries):
                break
            time.sleep(1)
        return gained, entries

    def earn(n: int) -> requests.Response:
        body = {"member": number, "external_id": f"CL-{run}-{n}", "amount": "10.00", "currency": "EUR"}
        return a.post(f"{api}/transactions", json=body, headers={"Idempotency-Key": f"cl-{run}-{n}"}, timeout=60)

    with ThreadPoolExecutor(16) as pool:
        earned = list(pool.map(earn, range(EARNS)))
    served.update(r.headers.get("X-Served-By", "?") for r in earned)
    check(
        all(r.status_code == 201 for r in earned), f"{EARNS} concurrent earns: {Counter(r.status_code for r in earned)}"
    )
    points = sum(r.json()["points"] for r in earned if r.status_code == 201)
    # A purchase past the program's daily cap earns nothing and writes no entry.
    purchases = {r.json()["id"] for r in earned if r.status_code == 201 and r.json()["points"]}
    # The earns may set off prizes (the demo's "three visits" challenge) that workers credit a moment
    # later: the balance must grow by exactly the entries the ledger lists since, one earn per purchase.
    gained, entries = ledger_since_start()
    earns = [e for e in entries if e["kind"] == "earn" and e["transaction"] in purchases]
    check(
        len(earns) == len(purchases) and {e["transaction"] for e in earns} == purchases,
        f"one earn entry per purchase that earned: {len(earns)} for {len(purchases)}",
    )
    check(sum(e["points"] for e in earns) == points, f"the earn entries add up to the {points} points answered")
    extra = [(e["kind"], e["points"]) for e in entries if e not in earns]
    check(
        gained == sum(e["points"] for e in entries),
        f"the balance grew by the {points} points earned and the ledger's other entries {extra}: {gained}",
    )

    again = earn(0)
    check(
        again.status_code == 201 and again.json()["id"] == earned[0].json()["id"],
        "a retry with the same Idempotency-Key repeats the answer",
    )
    gained, entries = ledger_since_start()
    earns_after = [e for e in entries if e["kind"] == "earn"]
    check(
        len(earns_after) == len(earns) and gained == sum(e["points"] for e in entries),
        "the retry earned nothing more",
    )

    transaction = earned[0].json()["id"]
    foreign = b.post(f"{api}/transactions/{transaction}/reverse", json={"reason": "not mine"}, timeout=30)
    check(foreign.status_code == 404, f"another partner cannot reverse it: {foreign.status_code}")
    foreign_member = b.get(f"{api}/members/{number}/balance", timeout=30)
    check(
        foreign_member.status_code in (200, 404),
        f"another partner's read answers cleanly: {foreign_member.status_code}",
    )

    # Redemptions race on a member with spendable points: never more than the balance allows.
    ana = a.get(f"{api}/members", params={"email": "ana@example.com"}, timeout=30).json()["results"][0]["number"]
    rewards = a.get(f"{api}/rewards", params={"member": ana}, timeout=30).json()
    rewards = rewards["results"] if isinstance(rewards, dict) else rewards
    spendable = [r for r in rewards if r["can_redeem"] and r["kind"] != "charity"]
    check(bool(spendable), "Ana has a reward she can redeem")
    if spendable:
        reward = min(spendable, key=lambda r: r["points_cost"])
        before = a.get(f"{api}/members/{ana}/balance", timeout=30).json()["available"]

        def redeem(n: int) -> requests.Response:
            body = {"member": ana, "reward": reward["id"], "from_household": False}  # her own points only
            return a.post(f"{api}/redemptions", json=body, headers={"Idempotency-Key": f"cr-{run}-{n}"}, timeout=60)

        with ThreadPoolExecutor(REDEEMS) as pool:
            redeemed = list(pool.map(redeem, range(REDEEMS)))
        served.update(r.headers.get("X-Served-By", "?") for r in redeemed)
        codes = Counter(r.status_code for r in redeemed)
        after = a.get(f"{api}/members/{ana}/balance", timeout=30).json()["available"]
        check(set(codes) <= {201, 409}, f"{REDEEMS} concurrent redemptions answer 201 or 409: {dict(codes)}")
        check(after >= 0 and before - after == codes[201] * reward["points_cost"], "points spent = redemptions made")

    check(len([name for name in served if name != "?"]) >= 2, f"both web nodes served: {dict(served)}")
    print(f"{len(failures)} failed" if failures else "all checks passed")
    return 1 if failures else 0


def _entries(session: requests.Session, url: str) -> list[dict]:
    """Every ledger entry the partner sees for a member, following the list's `next` links."""
    entries, page = [], session.get(url, params={"page_size": 200}, timeout=30).json()
    entries += page["results"]
    while page["next"]:
        page = session.get(page["next"], timeout=30).json()
        entries += page["results"]
    return entries


def _session(key: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Api-Key {key}"
    return session


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
