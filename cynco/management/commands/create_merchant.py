"""`manage.py create_merchant NAME`: a new merchant; prints its four raw keys as JSON, once."""

import json

from django.core.management.base import BaseCommand

from cynco.merchants import merchant_create


class Command(BaseCommand):
    help = "Create a merchant and print its four API keys (secret/publishable × live/test) as JSON."

    def add_arguments(self, parser):
        parser.add_argument("name")

    def handle(self, *args, name, **options):
        merchant, keys = merchant_create(name=name)
        self.stdout.write(json.dumps({"merchantId": merchant.id, "name": merchant.name, **{
            "secretKeyLive": keys["secret_live"],
            "publishableKeyLive": keys["publishable_live"],
            "secretKeyTest": keys["secret_test"],
            "publishableKeyTest": keys["publishable_test"],
        }}, indent=2))
        self.stderr.write("These keys are shown only now; store them somewhere safe.")
