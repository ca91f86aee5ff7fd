"""A fake CHIP Collect server for the CHIP gateway tests: http.server in a thread.

It answers the endpoints the gateway uses (under /api/v1) with the shapes CHIP's own SDKs and
plugins define (docs/gateways.md, "CHIP: every field and where it is defined"): POST
/purchases/, GET /purchases/{id}/, POST /purchases/{id}/charge/, POST /purchases/{id}/refund/,
GET /public_key/. Errors are `{"__all__": [{"message", "code"}]}`; a refund answers the
refund's Payment object (`related_to` its purchase). Two RSA key pairs sign what it sends, as
CHIP does: the company key (served at /public_key/) signs each purchase's `success_callback`,
and a webhook's own key signs webhook deliveries (`payment.refunded` among them).
`pay()` stands in for the customer on CHIP's hosted page. Cards: 4444333322221111 (CHIP's test
card) pays; 4000000000000002 is declined; a token saved from a card ending 0341 saves fine and
is declined when charged.
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
COMPANY_ID = "c0ffee00-0000-4000-8000-000000000001"


def _key_pair():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def errors(code: str, message: str) -> dict:
    """CHIP's error body (its plugins read `__all__`, a list of {message, code})."""
    return {"__all__": [{"message": message, "code": code}]}


class FakeChip:
    def __init__(self):
        self.company_key, self.public_pem = _key_pair()
        self.webhook_key, self.webhook_public_pem = _key_pair()
        self.purchases: dict[str, dict] = {}
        self.payments: dict[str, dict] = {}  # refund Payments by id
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

    def sign(self, body: bytes, *, key=None) -> str:
        signature = (key or self.company_key).sign(body, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode()

    def callback(self, purchase: dict, event_type: str) -> tuple[dict[str, str], bytes]:
        """(headers, body) of the success callback CHIP POSTs for this purchase now: the
        Purchase object with its `event_type`, signed with the company key."""
        body = json.dumps({**purchase, "event_type": event_type}).encode()
        return {"X-Signature": self.sign(body), "Content-Type": "application/json"}, body

    def webhook(self, obj: dict, event_type: str) -> tuple[dict[str, str], bytes]:
        """(headers, body) of a webhook delivery: the object with its `event_type`, signed with
        the webhook's own key (shown in CHIP's portal when the webhook is registered)."""
        body = json.dumps({**obj, "event_type": event_type}).encode()
        return ({"X-Signature": self.sign(body, key=self.webhook_key),
                 "Content-Type": "application/json"}, body)

    def pay(self, purchase_id: str, card: str) -> tuple[dict[str, str], bytes]:
        """The customer pays on the hosted page; returns the signed callback."""
        with self.lock:
            purchase = self.purchases[purchase_id]
            purchase["transaction_data"] = _transaction_data(card)
            if card == DECLINED_CARD:
                _attempt(purchase, "execute", card, "insufficient_funds", "Insufficient funds")
                self._status(purchase, "error")
                return self.callback(purchase, "purchase.payment_failure")
            _attempt(purchase, "authorize" if purchase["skip_capture"] else "execute", card)
            if purchase["skip_capture"]:
                # Zero amount: a card check only (`preauthorized`); an amount: funds on hold.
                status = "preauthorized" if purchase["purchase"]["total"] == 0 else "hold"
            else:
                status = "paid"
                self._paid(purchase)
            if purchase["force_recurring"]:
                purchase["is_recurring_token"] = True
                self.cards[purchase_id] = card
            self._status(purchase, status)
            return self.callback(purchase, f"purchase.{status}")

    def refund_webhook(self, payment_id: str) -> tuple[dict[str, str], bytes]:
        """The `payment.refunded` webhook of a refund: its Payment, `related_to` the purchase."""
        with self.lock:
            return self.webhook(self.payments[payment_id], "payment.refunded")

    def _status(self, purchase: dict, status: str, related: dict | None = None) -> None:
        now = int(time.time())
        purchase["status"] = status
        purchase["updated_on"] = now
        entry = {"status": status, "timestamp": now}
        if related:
            entry["related_object"] = related
        purchase["status_history"].append(entry)

    @staticmethod
    def _paid(purchase: dict) -> None:
        total = purchase["purchase"]["total"]
        purchase["refundable_amount"] = total
        purchase["payment"] = {
            "is_outgoing": False, "payment_type": "purchase", "amount": total,
            "currency": purchase["purchase"]["currency"], "net_amount": total, "fee_amount": 0,
            "pending_amount": 0, "pending_unfreeze_on": None, "description": "",
            "paid_on": int(time.time()), "remote_paid_on": int(time.time()),
        }

    # --- the API --------------------------------------------------------------------------------

    def create(self, body: dict) -> tuple[int, object]:
        client, details = body.get("client") or {}, body.get("purchase") or {}
        products = details.get("products") or []
        if not body.get("brand_id"):
            return 400, {"brand_id": [{"message": "This field is required.", "code": "required"}]}
        if not client.get("email") or not products:
            return 400, errors("invalid_request", "client.email and purchase.products are "
                                                  "required")
        purchase_id = str(uuid.uuid4())
        now = int(time.time())
        total = sum(int(p["price"]) * int(float(p.get("quantity", 1))) for p in products)
        purchase = {
            "id": purchase_id, "type": "purchase", "created_on": now, "updated_on": now,
            "client": {"email": client["email"], "full_name": client.get("full_name", "")},
            "purchase": {
                "currency": details.get("currency", "MYR"), "total": total, "language": "en",
                "notes": details.get("notes", ""), "debt": 0, "timezone": "UTC",
                "products": [{"name": p["name"], "price": int(p["price"]),
                              "quantity": f"{float(p.get('quantity', 1)):.4f}", "discount": 0,
                              "tax_percent": "0.00", "category": ""} for p in products],
            },
            "payment": None, "issuer_details": {"brand_name": "Cynco test brand"},
            "transaction_data": {"payment_method": "", "extra": {}, "country": "",
                                 "attempts": []},
            "status": "created", "status_history": [{"status": "created", "timestamp": now}],
            "company_id": COMPANY_ID, "is_test": True, "brand_id": body["brand_id"],
            "client_id": str(uuid.uuid4()), "send_receipt": False,
            "is_recurring_token": False, "recurring_token": None,
            "skip_capture": bool(body.get("skip_capture")),
            "force_recurring": bool(body.get("force_recurring")),
            "reference_generated": f"CH{len(self.purchases) + 1}",
            "reference": body.get("reference", ""), "refund_availability": "all",
            "refundable_amount": 0,
            "success_redirect": body.get("success_redirect", ""),
            "failure_redirect": body.get("failure_redirect", ""),
            "cancel_redirect": body.get("cancel_redirect", ""),
            "success_callback": body.get("success_callback", ""),
            "platform": "api", "product": "purchases",
            "checkout_url": f"{self.url.replace('/api/v1', '')}/p/{purchase_id}/",
        }
        self.purchases[purchase_id] = purchase
        return 201, purchase

    def charge(self, purchase_id: str, body: dict) -> tuple[int, object]:
        purchase = self.purchases[purchase_id]
        token = body.get("recurring_token")
        if token not in self.cards:
            return 400, errors("invalid_recurring_token", "Invalid recurring token")
        if purchase["status"] != "created":
            return 400, errors("purchase_charge_error", "Purchase is not payable")
        self.charges.append(purchase_id)
        card = self.cards[token]
        purchase["recurring_token"] = token
        purchase["transaction_data"] = _transaction_data(card)
        if card == DECLINED_CARD or card.endswith("0341"):
            _attempt(purchase, "recurring_execute", card, "do_not_honour", "Do not honour")
            self._status(purchase, "error")
            return 400, errors("purchase_charge_error", "Recurring charge failed")
        _attempt(purchase, "recurring_execute", card)
        self._paid(purchase)
        self._status(purchase, "paid")
        return 200, purchase

    def refund(self, purchase_id: str, body: dict) -> tuple[int, object]:
        purchase = self.purchases[purchase_id]
        amount = int(body.get("amount", purchase["refundable_amount"]))
        if purchase["status"] not in ("paid", "refunded") or not 0 < amount <= purchase[
                "refundable_amount"]:
            return 400, errors("purchase_refund_error", "Cannot refund that amount")
        purchase["refundable_amount"] -= amount
        now = int(time.time())
        payment = {
            "type": "payment", "id": str(uuid.uuid4()), "created_on": now, "updated_on": now,
            "client": purchase["client"],
            "payment": {"is_outgoing": True, "payment_type": "refund", "amount": amount,
                        "currency": purchase["purchase"]["currency"], "net_amount": amount,
                        "fee_amount": 0, "pending_amount": 0, "pending_unfreeze_on": None,
                        "description": "", "paid_on": now, "remote_paid_on": now},
            "transaction_data": purchase["transaction_data"],
            "related_to": {"type": "purchase", "id": purchase_id},
            "reference_generated": purchase["reference_generated"],
            "reference": purchase["reference"], "account_id": None,
            "company_id": COMPANY_ID, "is_test": True, "user_id": None,
            "brand_id": purchase["brand_id"],
        }
        self.payments[payment["id"]] = payment
        # `refunded` after any refund, partial or full (CHIP's status list).
        self._status(purchase, "refunded", {"type": "payment", "id": payment["id"]})
        return 200, payment

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
                    return self._answer(401, errors("unauthorized", "Invalid token."))
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
                            return self._answer(404, {"detail": "Not found."})
                        if method == "GET" and len(parts) == 2:
                            return self._answer(200, chip.purchases[parts[1]])
                        if method == "POST" and parts[2:] == ["charge"]:
                            return self._answer(*chip.charge(parts[1], body))
                        if method == "POST" and parts[2:] == ["refund"]:
                            return self._answer(*chip.refund(parts[1], body))
                return self._answer(404, {"detail": "Not found."})

            def do_GET(self):
                self._route("GET")

            def do_POST(self):
                self._route("POST")

            def log_message(self, *args):
                pass

        return Handler


def _transaction_data(card: str) -> dict:
    """A card payment's `transaction_data`; `extra` carries the card as CHIP's plugins read it."""
    return {"payment_method": "visa", "country": "MY", "attempts": [], "extra": {
        "card_brand": "visa", "masked_pan": f"{card[:6]}******{card[-4:]}",
        "expiry_month": 12, "expiry_year": 34, "cardholder_name": "ALI BIN ABU",
        "card_issuer_country": "MY", "card_type": "debit",
    }}


def _attempt(purchase: dict, kind: str, card: str, code: str = "", message: str = "") -> None:
    """Record a payment attempt, newest first, with its error when it failed."""
    purchase["transaction_data"]["attempts"].insert(0, {
        "type": kind, "successful": not code, "payment_method": "visa", "country": "MY",
        "client_ip": "127.0.0.1", "processing_time": 1, "extra": {},
        "error": {"code": code, "message": message} if code else None,
    })
