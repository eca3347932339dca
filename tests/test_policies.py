"""labsqs.security: the IAM actions the lab's code needs, and policies checked against them (IAM is not
enforced by LocalStack's open-source core, so this is how the lab checks a policy)."""

from __future__ import annotations

from labsqs import security
from labsqs.consumer import consume
from labsqs.producer import send_many

ARN = "arn:aws:sqs:us-east-1:123456789012:jobs"


def test_batch_operations_are_authorised_by_the_single_action():
    assert security.iam_action("SendMessageBatch") == "sqs:SendMessage"
    assert security.iam_action("ChangeMessageVisibilityBatch") == "sqs:ChangeMessageVisibility"
    assert security.iam_actions(["DeleteMessage", "DeleteMessageBatch", "ReceiveMessage"]) == [
        "sqs:DeleteMessage", "sqs:ReceiveMessage"]


def test_evaluate_allows_only_what_a_statement_allows_and_an_explicit_deny_wins():
    doc = security.policy(
        {"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:ReceiveMessage"], "Resource": ARN},
        {"Effect": "Deny", "Action": "sqs:ReceiveMessage", "Resource": "*"},
    )
    verdict = security.evaluate(doc, ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"], ARN)
    assert verdict == {"sqs:SendMessage": security.ALLOWED, "sqs:ReceiveMessage": security.DENIED,
                       "sqs:DeleteMessage": security.IMPLICIT_DENY}
    other = security.evaluate(doc, ["sqs:SendMessage"], ARN.replace("jobs", "other"))
    assert other == {"sqs:SendMessage": security.IMPLICIT_DENY}


def test_broad_grants_names_wildcards():
    everything = security.policy({"Effect": "Allow", "Action": "sqs:*", "Resource": "*"})
    assert security.broad_grants(everything) == ["Action sqs:*", "Resource *"]
    assert security.broad_grants(security.policy({"Effect": "Allow", "Action": "sqs:SendMessage",
                                                  "Resource": ARN})) == []


def test_call_recorder_sees_what_the_producer_and_consumer_call(moto_sqs):
    url = moto_sqs.create_queue(QueueName="jobs")["QueueUrl"]
    with security.CallRecorder(moto_sqs) as producer:
        send_many(url, [{"n": i} for i in range(12)], sqs=moto_sqs)
    with security.CallRecorder(moto_sqs) as consumer:
        consume(url, lambda m: None, idle_polls=1, wait_time_seconds=0, sqs=moto_sqs)
    moto_sqs.send_message(QueueUrl=url, MessageBody="after the block: not recorded")
    assert producer.operations["SendMessageBatch"] == 2  # (+ GetQueueAttributes: is the URL a FIFO queue?)
    assert "sqs:SendMessage" in producer.actions() and "sqs:SendMessageBatch" not in producer.actions()
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage"} <= set(consumer.actions())
    assert "sqs:SendMessage" not in consumer.actions()
