"""IAM: AWS-managed policies on demand (used by the stack deployer's roles)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import moto

from .base import SeamMoved, _original

_aws_policy_documents: dict[str, Any] | None = None
_aws_policies_installed = False


def _aws_managed_policy_data() -> dict[str, Any]:
    global _aws_policy_documents
    if _aws_policy_documents is None:
        import json

        from moto.iam.aws_managed_policies import aws_managed_policies_data

        _aws_policy_documents = json.loads(aws_managed_policies_data)
    return _aws_policy_documents


_one_policy: dict[str, Any] = {}


def _aws_managed_policy(name: str) -> Any:
    """One AWS-managed policy's data, read from moto's 5 MB of JSON without parsing the other
    1,400 (0.3 s): moto writes each policy as a top-level key on a line of its own, indented by
    one space. Anything else is looked up in the whole document, parsed once."""
    if name in _one_policy:
        return _one_policy[name]
    import json

    from moto.iam.aws_managed_policies import aws_managed_policies_data as text

    found = None
    start = text.find(f'\n "{name}":')
    if start >= 0:
        try:
            found, _ = json.JSONDecoder().raw_decode(text, text.index(":", start + 2) + 1)
        except ValueError:
            found = None
    if not isinstance(found, dict):
        found = _aws_managed_policy_data().get(name)
    _one_policy[name] = found
    return found


def _ensure_aws_managed_policy(backend: Any, policy_arn: str) -> None:
    prefix = f"arn:{backend.partition}:iam::aws:policy"
    if not policy_arn.startswith(prefix + "/") or policy_arn in backend.managed_policies:
        return
    from moto.iam.models import AWSManagedPolicy

    name = policy_arn.rsplit("/", 1)[-1]
    data = _aws_managed_policy(name)
    if data is not None and policy_arn == f"{prefix}{data.get('Path', '/')}{name}":
        policy = AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, data)
        backend.managed_policies[policy.arn] = policy


def _on_demand(method_name: str) -> Callable[..., Any]:
    original = _original[f"iam_{method_name}"]

    def attach(self: Any, policy_arn: str, *args: Any, **kwargs: Any) -> Any:
        _ensure_aws_managed_policy(self, policy_arn)
        return original(self, policy_arn, *args, **kwargs)

    return attach


def provide_aws_managed_policies() -> None:
    """Let roles, users and groups attach AWS-managed policies (``arn:aws:iam::aws:policy/...``).

    AWS has them in every account. moto loads all ~1,400 into each IAM backend only when
    configured to, which costs about 0.3 s at every reset; here a policy is added to the
    backend the first time something attaches it. Idempotent.
    """
    global _aws_policies_installed
    from moto.iam.models import IAMBackend

    if _aws_policies_installed:
        return
    for method_name in ("attach_role_policy", "attach_user_policy", "attach_group_policy"):
        if not callable(getattr(IAMBackend, method_name, None)):
            raise SeamMoved(f"moto {moto.__version__}: IAMBackend.{method_name} is gone")
        _original[f"iam_{method_name}"] = getattr(IAMBackend, method_name)
        setattr(IAMBackend, method_name, _on_demand(method_name))
    _aws_policies_installed = True
