from decimal import Decimal

TAX = Decimal("0.20")


def with_tax(amount: str) -> str:
    return str((Decimal(amount) * (1 + TAX)).quantize(Decimal("0.01")))
