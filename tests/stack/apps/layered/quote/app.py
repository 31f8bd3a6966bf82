import sys

import aws_lambda_powertools
import branding
from aws_lambda_powertools import Logger
from shared.prices import with_tax

logger = Logger(service="quotes")


def handler(event, context):
    amount = (event.get("queryStringParameters") or {}).get("amount", "10")
    logger.info("quoting", extra={"amount": amount})
    return {
        "total": with_tax(amount),
        "signature": branding.SIGNATURE,
        "imported_from": {
            "powertools": aws_lambda_powertools.__file__,
            "shared": sys.modules["shared.prices"].__file__,
            "branding": branding.__file__,
        },
        "path": sys.path,
    }
