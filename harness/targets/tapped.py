"""Targets whose notifications are read from an SQS tap queue (LocalStack, AWS)."""

from __future__ import annotations

from ..stack.state import StackState
from .base import CapturedNotification
from .capture import SqsNotificationTap, TapResources
from .deploying import DeployingTarget


class TappedTarget(DeployingTarget):
    """Adds the notification tap beside the stack, and removes it with the stack."""

    #: seconds ReceiveMessage waits (AWS samples a subset of servers when it is 0)
    tap_receive_wait: int = 0
    _tap: SqsNotificationTap | None = None

    def after_deploy(self, state: StackState) -> None:
        tap = self._new_tap()
        topics = sorted(r.physical_id for r in state.of_type("AWS::SNS::Topic"))
        created = tap.create(f"{state.stack_name}-harness-tap", topics)
        state.extras["notification_tap"] = created.to_json()
        self._tap = tap

    def before_destroy(self, state: StackState) -> None:
        self.notification_tap(state).remove()
        state.extras.pop("notification_tap", None)
        self._tap = None

    def notifications(self) -> list[CapturedNotification]:
        """What the tap queue received from the stack's topics, oldest first."""
        return self.notification_tap().read()

    def notification_tap(self, state: StackState | None = None) -> SqsNotificationTap:
        """The tap of the deployed stack (rebuilt from the state file in a new process)."""
        if self._tap is None:
            state = state or self.state or self._load_state()
            tap = self._new_tap()
            recorded = (state.extras if state else {}).get("notification_tap")
            if recorded:
                tap.resources = TapResources.from_json(recorded)
            self._tap = tap
        return self._tap

    def _new_tap(self) -> SqsNotificationTap:
        return SqsNotificationTap(
            self.client("sqs"), self.client("sns"), receive_wait_seconds=self.tap_receive_wait
        )
