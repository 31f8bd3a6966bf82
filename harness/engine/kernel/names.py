"""Names and ARNs of functions, as every service reads and writes them."""

from __future__ import annotations


def function_name(name_or_arn: str) -> str:
    """The bare name of a function given by name, partial ARN (``123456789012:function:f``),
    ARN, or qualified ARN (``...:function:f:prod``)."""
    parts = name_or_arn.split(":")
    if "function" in parts:
        index = parts.index("function")
        if index + 1 < len(parts):
            return parts[index + 1]
    return parts[0] if not name_or_arn.startswith("arn:") else name_or_arn


def function_arn(function: str, account: str, region: str, qualifier: str | None = None) -> str:
    """The function's ARN (qualified when a qualifier is given), from its name or an ARN."""
    if function.startswith("arn:"):
        qualified = function.count(":") >= 7
        return function if not qualifier or qualified else f"{function}:{qualifier}"
    arn = f"arn:aws:lambda:{region}:{account}:function:{function}"
    return f"{arn}:{qualifier}" if qualifier else arn
