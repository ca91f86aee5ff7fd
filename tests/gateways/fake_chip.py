"""A fake CHIP Collect server for the CHIP gateway tests: http.server in a thread.

It speaks the endpoints the gateway uses (under /api/v1): POST /purchases/, GET
/purchases/{id}/, POST /purchases/{id}/charge/, POST /purchases/{id}/refund/, GET /public_key/;
holds an RSA key pair and signs its callbacks the way CHIP does (X-Signature: base64 RSA
PKCS#1 v1.5 over SHA-256 of the body). `pay()` stands in for the customer on CHIP's hosted
page. Card behaviour: 4444333322221111 (CHIP's test card) pays; 4000000000000002 is declined.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

GOOD_CARD = "4444333322221111"
DECLINED_CARD = "4000000000000002"


class FakeChip:
    def __init__(self):
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_pem = self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        self.purchases: dict[str, dict] = {}
        self.cards: dict[str, str] = {}  # recurring token → card number
        self.charges: list[str] = []  # purchase ids charged with a token (each POST /charge/)
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    # --- what CHIP signs and sends ------------------------------------------------------------

    def sign(self, body: bytes) -> str:
        signature = self.private_key.sign(body, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode()

    def callback(self, purchase: dict, event_type: str) -> tuple[dict[str, str], bytes]:
        """(headers, body) of the callback CHIP would POST for this purchase now."""
        body = json.dumps({**purchase, "event_type": event_type}).encode()
        return {"X-Signature": self.sign(body), "Content-Type": "application/json"}, body

    def pay(self, purchase_id: str, card: str) -> tuple[dict[str, str], bytes]:
        """The customer pays on the hosted page; returns the signed callback."""
        with self.lock:
            purchase = self.purchases[purchase_id]
            if card == DECLINED_CARD:
                self._fail(purchase, "card_declined", "Card declined")
                return self.callback(purchase, "purchase.payment_failure")
            purchase["status"] = "hold" if purchase["skip_capture"] else "paid"
            purchase["refundable_amount"] = 0 if purchase["skip_capture"] else \
                purchase["purchase"]["total"]
            purchase["transaction_data"] = {"attempts": [], "extra": {
                "card_brand": "visa", "masked_pan": f"{card[:6]}******{card[-4:]}"}}
            if purchase["force_recurring"]:
                purchase["is_recurring_token"] = True
                self.cards[purchase_id] = card
            self._touch(purchase)
            return self.callback(purchase, "purchase.paid")

    @staticmethod
    def _touch(purchase):
        purchase["updated_on"] = time.time_ns()

    def _fail(self, purchase, code, message):
        purchase["status"] = "error"
        purchase["transaction_data"] = {"attempts": [{"error": {"code": code,
                                                                "message": message}}]}
        self._touch(purchase)

    # --- the API --------------------------------------------------------------------------------

    def create(self, body: dict) -> tuple[int, object]:
        client, details = body.get("client") or {}, body.get("purchase") or {}
        products = details.get("products") or []
        if not body.get("brand_id") or not client.get("email") or not products:
            return 400, {"brand_id": [{"message": "brand_id, client.email and products are "
                                                  "required", "code": "invalid_request"}]}
        purchase_id = str(uuid.uuid4())
        total = sum(int(p["price"]) * int(p.get("quantity", 1)) for p in products)
        purchase = {
            "id": purchase_id, "type": "purchase", "status": "created",
            "brand_id": body["brand_id"], "client": {"email": client["email"]},
            "purchase": {"currency": details.get("currency", "MYR"), "products": products,
                         "total": total, "metadata": details.get("metadata") or {}},
            "reference": body.get("reference", ""),
            "success_callback": body.get("success_callback", ""),
            "success_redirect": body.get("success_redirect", ""),
            "failure_redirect": body.get("failure_redirect", ""),
            "force_recurring": bool(body.get("force_recurring")),
            "skip_capture": bool(body.get("skip_capture")),
            "is_recurring_token": False, "refundable_amount": 0,
            "checkout_url": f"{self.url.replace('/api/v1', '')}/p/{purchase_id}/",
            "transaction_data": {"attempts": []}, "created_on": int(time.time()),
        }
        self._touch(purchase)
        self.purchases[purchase_id] = purchase
        return 201, purchase

    def charge(self, purchase_id: str, body: dict) -> tuple[int, object]:
        purchase = self.purchases[purchase_id]
        token = body.get("recurring_token")
        if token not in self.cards:
            return 400, {"code": "invalid_recurring_token", "message": "Unknown token"}
        if purchase["status"] != "created":
            return 400, {"code": "purchase_charge_error", "message": "Purchase is not payable"}
        self.charges.append(purchase_id)
        if self.cards[token] == DECLINED_CARD or self.cards[token].endswith("0341"):
            self._fail(purchase, "card_declined", "Card declined")
            return 400, {"code": "purchase_charge_error", "message": "Charge failed"}
        purchase["status"] = "paid"
        purchase["refundable_amount"] = purchase["purchase"]["total"]
        self._touch(purchase)
        return 200, purchase

    def refund(self, purchase_id: str, body: dict) -> tuple[int, object]:
        purchase = self.purchases[purchase_id]
        amount = int(body.get("amount", purchase["refundable_amount"]))
        if purchase["status"] not in ("paid", "refunded") or amount > purchase["refundable_amount"]:
            return 400, {"code": "purchase_refund_error", "message": "Cannot refund that amount"}
        purchase["refundable_amount"] -= amount
        if purchase["refundable_amount"] == 0:
            purchase["status"] = "refunded"
        self._touch(purchase)
        return 200, {"id": str(uuid.uuid4()), "type": "payment",
                     "payment": {"payment_type": "refund", "amount": amount,
                                 "currency": purchase["purchase"]["currency"]},
                     "related_to": {"type": "purchase", "id": purchase_id}}

    def _handler(self):
        chip = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, payload: object):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _route(self, method: str):
                if not self.headers.get("Authorization", "").startswith("Bearer "):
                    return self._answer(401, {"code": "unauthorized", "message": "No API key"})
                length = int(self.headers.get("Content-Length", 0) or 0)
                body = json.loads(self.rfile.read(length) or b"{}") if length else {}
                parts = [p for p in self.path.split("?")[0].split("/") if p][2:]  # after api/v1
                with chip.lock:
                    if method == "GET" and parts == ["public_key"]:
                        return self._answer(200, chip.public_pem)
                    if method == "POST" and parts == ["purchases"]:
                        return self._answer(*chip.create(body))
                    if len(parts) >= 2 and parts[0] == "purchases":
                        if parts[1] not in chip.purchases:
                            return self._answer(404, {"code": "not_found", "message": "No such"})
                        if method == "GET" and len(parts) == 2:
                            return self._answer(200, chip.purchases[parts[1]])
                        if method == "POST" and parts[2:] == ["charge"]:
                            return self._answer(*chip.charge(parts[1], body))
                        if method == "POST" and parts[2:] == ["refund"]:
                            return self._answer(*chip.refund(parts[1], body))
                return self._answer(404, {"code": "not_found", "message": self.path})

            def do_GET(self):
                self._route("GET")

            def do_POST(self):
                self._route("POST")

            def log_message(self, *args):
                pass

        return Handler
