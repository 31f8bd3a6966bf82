"""The scenario runner against a small stack on the embedded engine: each step kind, passing and
failing, skips and errors."""

from __future__ import annotations

import pickle
import textwrap
from collections.abc import Iterator

import pytest
from runner_support import MiniStack, PlainTarget, mini_stack

from harness.engine import Engine
from harness.scenario.language.loader import load_text
from harness.scenario.running.runner import ScenarioResult, ScenarioRunner


@pytest.fixture(scope="module")
def stack(engine: Engine) -> Iterator[MiniStack]:
    with mini_stack(engine) as built:
        yield built


def run(stack: MiniStack, text: str, target: object = None) -> ScenarioResult:
    (scenario,) = load_text(textwrap.dedent(text), "test.scenario.yaml")
    runner = ScenarioRunner(target or stack.target, stack.outputs)  # type: ignore[arg-type]
    return runner.run(scenario)


def test_a_full_scenario_passes_through_every_observing_step(stack: MiniStack) -> None:
    result = run(
        stack,
        """\
        name: create and change an item
        given:
          items:
            - {id: "seed-{run_id}", price: 1}
        steps:
          - request:
              method: POST
              path: /items
              json: {name: "lamp-{run_id}", price: 10}
            expect:
              status: 201
              headers: {content-type: application/json, X-ITEMS-API: "1"}
              json: {id: !type str, name: "lamp-{run_id}", price: 10}
            save: {item_id: json.id, code: status}
          - notifications:
              count: 1
              match:
                - subject: item insert
                  message: {id: "{item_id}", new: {price: 10}, old: null}
                  attributes: {eventName: INSERT}
                  topic: !re "notify-.*"
          - request: {method: PATCH, path: "/items/{item_id}", json: {price: 12.5}}
            expect: {status: 200, json: {price: 12.5}}
          - notifications:
              match:
                - message: {id: "{item_id}", new: {price: 12.5}, old: {price: 10}}
          - no_notifications: {within: 2s}
          - table:
              key: {id: "{item_id}"}
              item: {name: "lamp-{run_id}", price: 12.5, id: "{item_id}"}
          - table: {key: {id: "nothing-{run_id}"}, absent: true}
          - stream:
              count: 2
              match:
                - {eventName: INSERT, keys: {id: "{item_id}"}, old: !absent , userIdentity: !absent }
                - {eventName: MODIFY, new: {price: 12.5}, old: {price: 10}}
          - invoke:
              function: Notifier
              event: {Records: []}
            expect: {result: {batchItemFailures: [], seen: 0}}
          - request: {method: GET, path: /hello, query: {n: "{code}"}}
            expect: {status: 200, body: "hello n=201", headers: {content-type: !re "text/.*"}}
        """,
    )
    assert result.outcome == "passed", result.message
    assert [s.outcome for s in result.steps] == ["passed"] * 10
    assert result.variables["code"] == 201
    # the given item's INSERT was settled and discarded: the first check saw exactly one
    assert len(result.steps[1].observed["notifications"]) == 1
    assert result.steps[0].step.json == {"name": f"lamp-{result.run_id}", "price": 10}


def test_a_notification_mismatch_is_reported_as_paths(stack: MiniStack) -> None:
    result = run(
        stack,
        """\
name: wrong price
steps:
  - request: {method: POST, path: /items, json: {price: 10}}
    save: {item_id: json.id}
  - name: price announced
    notifications:
      within: 2s
      match:
        - message: {id: "{item_id}", new: {price: 12}}
          attributes: {eventName: MODIFY}
""",
    )
    assert result.outcome == "failed"
    failure = result.failure
    assert failure is not None
    assert [str(m) for m in failure.mismatches] == [
        "message.new.price: expected 12, got 10",
        'attributes.eventName: expected "MODIFY", got "INSERT"',
    ]
    text = result.message
    assert text.startswith(
        'step 2 (notifications) "price announced" (test.scenario.yaml:5) failed: '
    )
    assert "match[0] matched none of the 1 new notification (closest: notification 1)" in text
    assert (
        "  5 |   - name: price announced" in text
        and " 10 |           attributes: {eventName: MODIFY}" in text
    )
    assert "variables: " in text and "item_id" in text
    assert pickle.loads(pickle.dumps(failure)).render() == failure.render()


def test_a_request_mismatch_lists_every_difference(stack: MiniStack) -> None:
    result = run(
        stack,
        """\
name: missing item
steps:
  - request: {method: GET, path: "/items/none-{run_id}"}
    expect:
      status: 200
      json: {id: !any , message: !absent }
""",
    )
    assert result.outcome == "failed"
    assert result.failure is not None
    assert [str(m) for m in result.failure.mismatches] == [
        "status: expected 200, got 404",
        "json.id: expected !any, got nothing (no such key)",
        'json.message: expected no such key, got "not found"',
    ]
    assert f"GET /items/none-{result.run_id} answered 404" in result.message


def test_entries_out_of_order_say_where_each_matched_and_how_to_loosen(stack: MiniStack) -> None:
    result = run(
        stack,
        """\
name: written in the wrong order
steps:
  - request: {method: POST, path: /items, json: {n: 1}}
  - request: {method: POST, path: /items, json: {n: 2}}
  - notifications:
      match: [{message: {new: {n: 2}}}, {message: {new: {n: 1}}}]
""",
    )
    assert result.outcome == "failed"
    assert (
        "match[1] matched none of the 2 new notifications; match[1] matches only notification 1, "
        "which comes before notification 2 that match[0] matched: entries match in the order "
        "written (add `ordered: false` to the step to match them in any order)"
    ) in result.message


def test_count_counts_every_new_notification_once_idle(stack: MiniStack) -> None:
    result = run(
        stack,
        """\
name: two writes, one expected
steps:
  - request: {method: POST, path: /items, json: {n: 1}}
  - request: {method: POST, path: /items, json: {n: 2}}
  - notifications:
      count: 1
      ordered: false
      match: [{message: {new: {n: 2}}}]
""",
    )
    assert result.outcome == "failed"
    assert "expected exactly 1 new notification, got 2" in result.message
    assert "notification 2: " in result.message


def test_no_notifications_fails_when_one_arrives(stack: MiniStack) -> None:
    result = run(
        stack,
        """\
name: unexpected
steps:
  - request: {method: POST, path: /items, json: {n: 1}}
  - no_notifications:
""",
    )
    assert result.outcome == "failed"
    assert "expected no new notification, got 1" in result.message


def test_table_mismatch_and_unexpected_item(stack: MiniStack) -> None:
    result = run(
        stack,
        """\
name: table
steps:
  - request: {method: POST, path: /items, json: {price: 3}}
    save: {item_id: json.id}
  - table: {key: {id: "{item_id}"}, item: {price: 4, extra: !any }}
""",
    )
    assert result.outcome == "failed"
    assert result.failure is not None
    assert [str(m) for m in result.failure.mismatches] == [
        "price: expected 4, got 3",
        "extra: expected !any, got nothing (no such key)",
    ]
    result = run(
        stack,
        """\
name: table absent
steps:
  - request: {method: POST, path: /items, json: {price: 3}}
    save: {item_id: json.id}
  - table: {key: {id: "{item_id}"}, absent: true}
""",
    )
    assert result.outcome == "failed"
    assert "expected no item with key" in result.message


def test_expire_emits_a_remove_by_the_ttl_service(stack: MiniStack) -> None:
    result = run(
        stack,
        """\
name: expiry
steps:
  - request: {method: POST, path: /items, json: {price: 3}}
    save: {item_id: json.id}
  - expire: {key: {id: "{item_id}"}}
  - stream:
      match:
        - {eventName: INSERT}
        - eventName: REMOVE
          old: {price: 3}
          userIdentity: {type: Service, principalId: dynamodb.amazonaws.com}
  - table: {key: {id: "{item_id}"}, absent: true}
  - notifications:
      match: [{subject: item insert}, {subject: item remove}]
""",
    )
    assert result.outcome == "passed", result.message


def test_an_injected_fault_makes_an_invocation_fail_and_is_cleared_after(
    stack: MiniStack, engine: Engine
) -> None:
    result = run(
        stack,
        """\
name: fault
steps:
  - fault: {function: Notifier, error: exception, times: 1}
  - invoke: {function: Notifier, event: {Records: []}}
    expect: {error: {errorType: !type str, errorMessage: !any }}
  - fault: {function: Notifier, error: exception, times: 5}
""",
    )
    assert result.outcome == "passed", result.message
    assert engine.faults.list() == []  # cleared when the scenario ended


def test_an_unexpected_function_error_fails_the_step(stack: MiniStack) -> None:
    result = run(
        stack,
        """\
name: fault unexpected
steps:
  - fault: {function: Notifier, error: exception}
  - invoke: {function: Notifier, event: {Records: []}}
""",
    )
    assert result.outcome == "failed"
    assert "step 2 (invoke)" in result.message and " failed: " in result.message


def test_a_target_without_the_ability_skips_the_scenario_with_the_reason(stack: MiniStack) -> None:
    plain = PlainTarget(stack.target.engine, stack.target.topic_arn)
    text = """\
name: needs ttl
steps:
  - request: {method: POST, path: /items, json: {}}
  - expire: {key: {id: x}}
"""
    result = run(stack, text, target=plain)
    assert result.outcome == "skipped"
    assert result.message == "needs expire, which the plain target does not offer"
    assert result.steps == []  # nothing ran


def test_a_target_that_refuses_a_step_skips_with_its_reason(stack: MiniStack) -> None:
    plain = PlainTarget(stack.target.engine, stack.target.topic_arn)
    plain.capabilities = frozenset({"fault"})  # claims it, then refuses: the step's refusal wins
    result = run(
        stack, "name: f\nsteps:\n  - fault: {function: Notifier, error: crash}\n", target=plain
    )
    assert result.outcome == "skipped"
    assert result.message == "the plain target has no fault injection"


def test_a_target_error_is_reported_with_its_step_not_a_traceback(stack: MiniStack) -> None:
    result = run(stack, "name: e\nsteps:\n  - invoke: {function: no-such-function}\n")
    assert result.outcome == "error"
    assert result.message.startswith(
        "step 1 (invoke) (test.scenario.yaml:3): ResourceNotFoundException: "
    )
    assert "Function not found" in result.message
    assert "Traceback" not in result.message


def _queue_messages(stack: MiniStack) -> int:
    sqs = stack.target.client("sqs")
    answer = sqs.get_queue_attributes(
        QueueUrl=stack.outputs.resources["AuditQueue"],
        AttributeNames=["ApproximateNumberOfMessages"],
    )
    return int(answer["Attributes"]["ApproximateNumberOfMessages"])


def test_a_queue_step_sees_only_new_messages_and_leaves_them_in_the_queue(
    stack: MiniStack,
) -> None:
    sqs = stack.target.client("sqs")
    url = stack.outputs.resources["AuditQueue"]
    for n in range(12):  # more than one ReceiveMessage returns: the queue is walked, not sampled
        sqs.send_message(QueueUrl=url, MessageBody=f"there before the scenario: {n}")
    before = _queue_messages(stack)
    result = run(
        stack,
        """\
name: queue
steps:
  - request: {method: POST, path: /items, json: {price: 1}}
    save: {item_id: json.id}
  - queue:
      name: AuditQueue
      count: 1
      match: [{body: {id: "{item_id}", event: INSERT}, attributes: {size: 1}}]
  - request: {method: PATCH, path: "/items/{item_id}", json: {price: 2}}
  - request: {method: DELETE, path: "/items/{item_id}"}
  - name: the same queue by its URL sees only what came after the previous check
    queue:
      name: "{queue_url}"
      within: 10s
      count: 2
      match:
        - body: {id: "{item_id}", event: MODIFY}
        - body: {id: "{item_id}", event: REMOVE}
""".replace("{queue_url}", url),
    )
    assert result.outcome == "passed", result.message
    assert result.steps[1].observed["messages"] == [
        {"body": {"id": result.variables["item_id"], "event": "INSERT"}, "attributes": {"size": 1}}
    ]
    assert _queue_messages(stack) == before + 3  # peeked at, never consumed


def test_a_queue_mismatch_lists_the_messages_seen(stack: MiniStack) -> None:
    result = run(
        stack,
        """\
name: queue mismatch
steps:
  - request: {method: POST, path: /items, json: {price: 1}}
  - name: wrong event
    queue:
      name: AuditQueue
      match: [{body: {event: REMOVE}}]
""",
    )
    assert result.outcome == "failed"
    assert result.failure is not None
    assert [str(m) for m in result.failure.mismatches] == [
        'body.event: expected "REMOVE", got "INSERT"'
    ]
    assert result.message.startswith('step 2 (queue) "wrong event" (test.scenario.yaml:4) failed: ')
    assert "match[0] matched none of the 1 new message (closest: message 1)" in result.message
    assert 'message 1: {"body": {' in result.message


def test_an_unknown_queue_fails_its_step_naming_the_known_ones(stack: MiniStack) -> None:
    result = run(stack, "name: q\nsteps:\n  - queue: {name: NoSuchQueue, count: 0}\n")
    assert result.outcome == "failed"
    assert "no queue 'NoSuchQueue': expected a queue's logical id in the template (AuditQueue)" in (
        result.message
    )
