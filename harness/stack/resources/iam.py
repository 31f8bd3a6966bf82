"""AWS::IAM::Role."""

from __future__ import annotations

from typing import Any

from ..state import CreatedResource
from .base import (
    Created,
    DeployContext,
    ResourceHandler,
    as_json_text,
    ignore_missing,
    pick,
    register,
    tags_dict,
    undo_on_error,
)


@register
class IamRole(ResourceHandler):
    """Ref: role name. GetAtt: Arn, RoleId."""

    type_name = "AWS::IAM::Role"
    properties = frozenset(
        {
            "RoleName",
            "AssumeRolePolicyDocument",
            "Path",
            "Description",
            "MaxSessionDuration",
            "PermissionsBoundary",
            "ManagedPolicyArns",
            "Policies",
            "Tags",
        }
    )

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        client = ctx.client("iam")
        name = props.get("RoleName") or ctx.physical_name(logical_id, 64)
        request: dict[str, Any] = {
            "RoleName": name,
            "AssumeRolePolicyDocument": as_json_text(props["AssumeRolePolicyDocument"]),
            **pick(props, "Path", "Description", "MaxSessionDuration", "PermissionsBoundary"),
        }
        if props.get("Tags"):
            request["Tags"] = [{"Key": k, "Value": v} for k, v in tags_dict(props["Tags"]).items()]
        role = client.create_role(**request)["Role"]
        memo: dict[str, Any] = {"managed": [], "inline": []}
        resource = CreatedResource(logical_id, self.type_name, name, memo=memo)
        with undo_on_error(lambda: self.delete(ctx, resource)):
            for arn in props.get("ManagedPolicyArns") or []:
                client.attach_role_policy(RoleName=name, PolicyArn=arn)
                memo["managed"].append(arn)
            for policy in props.get("Policies") or []:
                client.put_role_policy(
                    RoleName=name,
                    PolicyName=policy["PolicyName"],
                    PolicyDocument=as_json_text(_versioned(policy["PolicyDocument"])),
                )
                memo["inline"].append(policy["PolicyName"])
        return Created(name, {"Arn": role["Arn"], "RoleId": role["RoleId"]}, memo)

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        client = ctx.client("iam")
        name = resource.physical_id
        for arn in resource.memo.get("managed", []):
            ignore_missing(client.detach_role_policy, RoleName=name, PolicyArn=arn)
        for policy in resource.memo.get("inline", []):
            ignore_missing(client.delete_role_policy, RoleName=name, PolicyName=policy)
        ignore_missing(client.delete_role, RoleName=name)


def _versioned(document: Any) -> Any:
    """SAM's policy templates omit Version. IAM takes that as 2008-10-17, but stricter
    emulators (moto) reject it; 2012-10-17 means the same for these documents (it only adds
    policy variables, which they do not use)."""
    if isinstance(document, dict) and "Version" not in document:
        return {"Version": "2012-10-17", **document}
    return document
