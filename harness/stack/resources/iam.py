"""AWS::IAM::Role, and the policies attached to roles: AWS::IAM::Policy (inline) and
AWS::IAM::ManagedPolicy (what SAM connectors generate)."""

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


@register
class IamPolicy(ResourceHandler):
    """Ref: a policy id. An inline policy put on each of its Roles, Users and Groups."""

    type_name = "AWS::IAM::Policy"
    properties = frozenset({"PolicyName", "PolicyDocument", "Roles", "Users", "Groups"})

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        client = ctx.client("iam")
        name = str(props["PolicyName"])
        document = as_json_text(_versioned(props["PolicyDocument"]))
        holders: list[list[str]] = []
        resource = CreatedResource(logical_id, self.type_name, "", memo={"holders": holders})
        with undo_on_error(lambda: self.delete(ctx, resource)):
            for kind, names in _holders(props):
                for holder in names:
                    put = getattr(client, f"put_{kind}_policy")
                    put(
                        **{f"{kind.capitalize()}Name": holder},
                        PolicyName=name,
                        PolicyDocument=document,
                    )
                    holders.append([kind, holder])
        policy_id = ctx.physical_name(logical_id, 128)
        return Created(policy_id, {"Id": policy_id}, memo={"name": name, "holders": holders})

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        client = ctx.client("iam")
        name = resource.memo.get("name")
        for kind, holder in resource.memo.get("holders", []):
            if name:
                remove = getattr(client, f"delete_{kind}_policy")
                ignore_missing(remove, **{f"{kind.capitalize()}Name": holder}, PolicyName=name)


@register
class IamManagedPolicy(ResourceHandler):
    """Ref: the policy ARN. GetAtt: PolicyArn, PolicyId. Attached to its Roles, Users, Groups."""

    type_name = "AWS::IAM::ManagedPolicy"
    properties = frozenset(
        {"ManagedPolicyName", "PolicyDocument", "Description", "Path", "Roles", "Users", "Groups"}
    )

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        client = ctx.client("iam")
        request: dict[str, Any] = {
            "PolicyName": props.get("ManagedPolicyName") or ctx.physical_name(logical_id, 128),
            "PolicyDocument": as_json_text(_versioned(props["PolicyDocument"])),
            **pick(props, "Description", "Path"),
        }
        policy = client.create_policy(**request)["Policy"]
        arn = policy["Arn"]
        attached: list[list[str]] = []
        memo: dict[str, Any] = {"attached": attached}
        resource = CreatedResource(logical_id, self.type_name, arn, memo=memo)
        with undo_on_error(lambda: self.delete(ctx, resource)):
            for kind, names in _holders(props):
                for holder in names:
                    attach = getattr(client, f"attach_{kind}_policy")
                    attach(**{f"{kind.capitalize()}Name": holder}, PolicyArn=arn)
                    attached.append([kind, holder])
        return Created(arn, {"PolicyArn": arn, "PolicyId": policy["PolicyId"]}, memo)

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        client = ctx.client("iam")
        arn = resource.physical_id
        for kind, holder in resource.memo.get("attached", []):
            detach = getattr(client, f"detach_{kind}_policy")
            ignore_missing(detach, **{f"{kind.capitalize()}Name": holder}, PolicyArn=arn)
        ignore_missing(client.delete_policy, PolicyArn=arn)


def _holders(props: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """(role | user | group, names) for a policy's Roles, Users and Groups."""
    return [
        (kind, [str(name) for name in props.get(key) or []])
        for key, kind in (("Roles", "role"), ("Users", "user"), ("Groups", "group"))
    ]


def _versioned(document: Any) -> Any:
    """SAM's policy templates omit Version. IAM takes that as 2008-10-17, but stricter
    emulators (moto) reject it; 2012-10-17 means the same for these documents (it only adds
    policy variables, which they do not use)."""
    if isinstance(document, dict) and "Version" not in document:
        return {"Version": "2012-10-17", **document}
    return document
