"""Checks on queues and their attributes: defaults, names (the .fifo suffix), ranges, URLs, listing, tags."""

from __future__ import annotations

from labsqs.conformance.documented import (
    DEFAULT_RETENTION_SECONDS,
    DEFAULT_VISIBILITY_TIMEOUT_SECONDS,
    MAX_DELAY_SECONDS,
    MAX_MESSAGE_BYTES,
    MAX_QUEUE_NAME_CHARS,
    MAX_RETENTION_SECONDS,
    MAX_VISIBILITY_TIMEOUT_SECONDS,
    MAX_WAIT_TIME_SECONDS,
    MIN_MESSAGE_SIZE_BYTES,
    MIN_RETENTION_SECONDS,
)
from labsqs.conformance.probe import Probe
from labsqs.conformance.registry import check


@check(
    "queue.standard-defaults",
    "a new standard queue has SQS's default attributes",
    doc="sqs-limits.md: visibility default 30 s, retention default 4 days, max message size 1 MiB "
    "(default since Aug 2025), delay 0; API Reference 'CreateQueue'",
)
def _standard_defaults(p: Probe) -> str:
    attrs = p.attributes(p.queue("defaults"))
    expected = {
        "VisibilityTimeout": str(DEFAULT_VISIBILITY_TIMEOUT_SECONDS),
        "MessageRetentionPeriod": str(DEFAULT_RETENTION_SECONDS),
        "MaximumMessageSize": str(MAX_MESSAGE_BYTES),
        "DelaySeconds": "0",
        "ReceiveMessageWaitTimeSeconds": "0",
    }
    wrong = {k: attrs.get(k) for k, v in expected.items() if attrs.get(k) != v}
    p.expect(not wrong, f"differs from the defaults: {wrong}")
    return "visibility 30 s, retention 345600 s, max size 1048576 B, delay 0 s, wait 0 s"


@check(
    "queue.fifo-attributes",
    "a new FIFO queue reports FifoQueue, content-based dedup off, queue-scoped dedup",
    doc="API Reference 'CreateQueue': ContentBasedDeduplication default false, DeduplicationScope "
    "default queue, FifoThroughputLimit default perQueue",
)
def _fifo_attributes(p: Probe) -> str:
    attrs = p.attributes(p.queue("fifoattrs", fifo=True))
    expected = {
        "FifoQueue": "true",
        "ContentBasedDeduplication": "false",
        "DeduplicationScope": "queue",
        "FifoThroughputLimit": "perQueue",
    }
    wrong = {k: attrs.get(k) for k, v in expected.items() if attrs.get(k) != v}
    p.expect(not wrong, f"differs: {wrong}")
    return "FifoQueue true, ContentBasedDeduplication false, DeduplicationScope queue, perQueue"


@check(
    "queue.sse-default",
    "new queues have SSE-SQS encryption on",
    doc="sqs-limits.md: 'SSE-SQS on by default for new queues'; Developer Guide 'Encryption at rest in "
    "Amazon SQS'",
)
def _sse_default(p: Probe) -> str:
    value = p.attributes(p.queue("sse")).get("SqsManagedSseEnabled")
    p.expect(value == "true", f"SqsManagedSseEnabled is {value!r}")
    return "SqsManagedSseEnabled true"


@check(
    "queue.create-idempotent",
    "CreateQueue with the same name and attributes returns the same URL",
    doc="API Reference 'CreateQueue': 'If you provide the name of an existing queue along with the exact "
    "names and values of all the queue's attributes, CreateQueue returns the queue URL'",
)
def _create_idempotent(p: Probe) -> str:
    url = p.queue("idem", VisibilityTimeout=20)
    again = p.sqs.create_queue(QueueName=p.name("idem"), Attributes={"VisibilityTimeout": "20"})["QueueUrl"]
    p.expect(again == url, f"second CreateQueue returned {again}, first {url}")
    return "same URL"


@check(
    "queue.create-conflict",
    "CreateQueue with an existing name but other attributes is rejected",
    doc="API Reference 'CreateQueue': QueueNameExists — 'a queue with this name already exists … with "
    "different attributes'",
)
def _create_conflict(p: Probe) -> str:
    p.queue("conflict", VisibilityTimeout=20)
    code = p.rejected(
        p.sqs.create_queue,
        "CreateQueue with VisibilityTimeout 40 on a queue created with 20",
        codes=("QueueNameExists",),
        QueueName=p.name("conflict"),
        Attributes={"VisibilityTimeout": "40"},
    )
    return f"rejected: {code}"


@check(
    "queue.name-chars",
    "queue names allow only [A-Za-z0-9_-]",
    doc="sqs-limits.md: queue names 1–80 chars [A-Za-z0-9_-]",
)
def _name_chars(p: Probe) -> str:
    codes = p.all_rejected(
        (f"queue name {bad!r}", p.sqs.create_queue, {"QueueName": p.name(bad)})
        for bad in ("has space", "dot.name", "bang!")
    )
    return f"space, dot and '!' rejected ({codes[0]})"


@check(
    "queue.name-length",
    "queue names of 80 chars are accepted, 81 rejected",
    doc="sqs-limits.md: queue names 1–80 chars",
)
def _name_length(p: Probe) -> str:
    stem = p.name("")
    ok = (stem + "n" * MAX_QUEUE_NAME_CHARS)[:MAX_QUEUE_NAME_CHARS]
    p.adopt(p.sqs.create_queue(QueueName=ok)["QueueUrl"])
    code = p.rejected(p.sqs.create_queue, "an 81-char queue name", QueueName=ok + "n")
    return f"80 accepted, 81 rejected ({code})"


@check(
    "fifo.name-suffix",
    "a FIFO queue's name must end in .fifo",
    doc="sqs-limits.md: 'FIFO names end in .fifo'; Developer Guide 'Amazon SQS FIFO queues'",
)
def _fifo_name_suffix(p: Probe) -> str:
    code = p.rejected(
        p.sqs.create_queue,
        "FifoQueue=true without .fifo",
        QueueName=p.name("nosuffix"),
        Attributes={"FifoQueue": "true"},
    )
    return f"rejected: {code}"


@check(
    "fifo.suffix-needs-attribute",
    "a standard queue cannot be named .fifo",
    doc="API Reference 'CreateQueue': 'A FIFO queue name must end with the .fifo suffix' and the suffix "
    "is only allowed with FifoQueue=true (names otherwise [A-Za-z0-9_-])",
)
def _fifo_suffix_attribute(p: Probe) -> str:
    code = p.rejected(p.sqs.create_queue, "a .fifo name without FifoQueue", QueueName=p.name("x", fifo=True))
    return f"rejected: {code}"


@check(
    "queue.attribute-ranges",
    "out-of-range queue attributes are rejected",
    doc="sqs-limits.md: retention 60 s–14 days, delay 0–900 s, max size 1 KiB–1 MiB, wait 0–20 s",
)
def _attribute_ranges(p: Probe) -> str:
    bad = {
        "MessageRetentionPeriod": [MIN_RETENTION_SECONDS - 1, MAX_RETENTION_SECONDS + 1],
        "DelaySeconds": [MAX_DELAY_SECONDS + 1],
        "MaximumMessageSize": [MIN_MESSAGE_SIZE_BYTES - 1, MAX_MESSAGE_BYTES + 1],
        "ReceiveMessageWaitTimeSeconds": [MAX_WAIT_TIME_SECONDS + 1],
    }
    cases = [(n, v) for n, vs in bad.items() for v in vs]
    p.all_rejected(
        (f"{n}={v}", p.sqs.create_queue, {"QueueName": p.name(f"range{i}"), "Attributes": {n: str(v)}})
        for i, (n, v) in enumerate(cases)
    )
    return "retention 59/1209601, delay 901, max size 1023/1048577, wait 21 rejected"


@check(
    "queue.visibility-max",
    "VisibilityTimeout above 43,200 s is rejected (queue and ChangeMessageVisibility)",
    doc="sqs-limits.md: visibility timeout 0 – 43,200 s (12 h)",
)
def _visibility_max(p: Probe) -> str:
    url = p.queue("vis12h", VisibilityTimeout=MAX_VISIBILITY_TIMEOUT_SECONDS)
    p.send(url)
    (m,) = p.receive(url, n=1)
    too_long = str(MAX_VISIBILITY_TIMEOUT_SECONDS + 1)
    codes = p.all_rejected(
        [
            (
                "CreateQueue with VisibilityTimeout 43201",
                p.sqs.create_queue,
                {"QueueName": p.name("vismax"), "Attributes": {"VisibilityTimeout": too_long}},
            ),
            (
                "ChangeMessageVisibility to 43201",
                p.sqs.change_message_visibility,
                {"QueueUrl": url, "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": int(too_long)},
            ),
        ]
    )
    return f"43200 accepted; 43201 rejected by CreateQueue and ChangeMessageVisibility ({codes[0]})"


@check(
    "queue.set-attributes",
    "SetQueueAttributes changes what GetQueueAttributes reports",
    doc="API Reference 'SetQueueAttributes'",
)
def _set_attributes(p: Probe) -> str:
    url = p.queue("setattrs")
    p.sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "45", "DelaySeconds": "3"})
    a = p.attributes(url)
    got = (a.get("VisibilityTimeout"), a.get("DelaySeconds"))
    p.expect(got == ("45", "3"), f"read back VisibilityTimeout, DelaySeconds = {got}")
    return "VisibilityTimeout 45, DelaySeconds 3 read back"


@check(
    "queue.url-format",
    "a queue URL ends in /<12-digit account>/<name>, matching the queue ARN",
    doc="Developer Guide 'Amazon SQS queue and message identifiers': queue URL "
    "https://sqs.<region>.amazonaws.com/<account>/<name>; ARN arn:aws:sqs:<region>:<account>:<name>",
)
def _url_format(p: Probe) -> str:
    url = p.queue("urlfmt")
    name = p.name("urlfmt")
    *_, account, last = url.rstrip("/").split("/")
    arn = p.arn(url)
    parts = arn.split(":")
    p.expect(last == name, f"URL {url} does not end in the queue name")
    p.expect(len(account) == 12 and account.isdigit(), f"URL {url}: {account!r} is not a 12-digit account")
    p.expect(
        len(parts) == 6 and parts[:3] == ["arn", "aws", "sqs"] and parts[4] == account and parts[5] == name,
        f"ARN {arn} does not match URL {url}",
    )
    return "…/<account>/<name>; ARN arn:aws:sqs:<region>:<account>:<name>"


@check(
    "queue.get-url",
    "GetQueueUrl returns the URL CreateQueue returned",
    doc="API Reference 'GetQueueUrl'",
)
def _get_url(p: Probe) -> str:
    url = p.queue("geturl")
    got = p.sqs.get_queue_url(QueueName=p.name("geturl"))["QueueUrl"]
    p.expect(got == url, f"GetQueueUrl {got} != CreateQueue {url}")
    return "same URL"


@check(
    "queue.does-not-exist",
    "a deleted queue answers QueueDoesNotExist",
    doc="API Reference 'GetQueueUrl' / 'SendMessage': QueueDoesNotExist "
    "(AWS.SimpleQueueService.NonExistentQueue)",
)
def _does_not_exist(p: Probe) -> str:
    url = p.queue("gone")
    p.sqs.delete_queue(QueueUrl=url)
    code = p.rejected(
        p.sqs.get_queue_url,
        "GetQueueUrl of a deleted queue",
        codes=("QueueDoesNotExist",),
        QueueName=p.name("gone"),
    )
    p.rejected(
        p.sqs.send_message,
        "SendMessage to a deleted queue",
        codes=("QueueDoesNotExist",),
        QueueUrl=url,
        MessageBody="x",
    )
    return f"GetQueueUrl and SendMessage: {code}"


@check(
    "queue.list-prefix",
    "ListQueues with QueueNamePrefix returns exactly the matching queues",
    doc="API Reference 'ListQueues': QueueNamePrefix",
)
def _list_prefix(p: Probe) -> str:
    a, b = p.queue("lista"), p.queue("listb")
    p.queue("other")
    got = sorted(p.sqs.list_queues(QueueNamePrefix=p.name("list")).get("QueueUrls", []))
    p.expect(got == sorted([a, b]), f"got {got}")
    return "2 of 3 queues listed"


@check(
    "queue.list-pagination",
    "ListQueues with MaxResults pages with NextToken",
    doc="API Reference 'ListQueues': MaxResults 1–1000, NextToken",
)
def _list_pagination(p: Probe) -> str:
    urls = sorted([p.queue("pagea"), p.queue("pageb")])
    first = p.sqs.list_queues(QueueNamePrefix=p.name("page"), MaxResults=1)
    token = first.get("NextToken")
    p.expect(
        len(first.get("QueueUrls", [])) == 1 and bool(token),
        f"first page {first.get('QueueUrls')}, token {token!r}",
    )
    second = p.sqs.list_queues(QueueNamePrefix=p.name("page"), MaxResults=1, NextToken=str(token))
    got = sorted(first["QueueUrls"] + second.get("QueueUrls", []))
    p.expect(got == urls, f"two pages gave {got}")
    return "1 + 1 queues over two pages"


@check(
    "queue.tags",
    "queue tags: set at creation, TagQueue, UntagQueue, ListQueueTags",
    doc="Developer Guide 'Amazon SQS cost allocation tags'; API Reference 'TagQueue', 'UntagQueue'",
    apis=("TagQueue", "UntagQueue", "ListQueueTags"),
)
def _tags(p: Probe) -> str:
    url = p.queue("tags", tags={"team": "lab"})
    p.sqs.tag_queue(QueueUrl=url, Tags={"env": "test"})
    both = p.sqs.list_queue_tags(QueueUrl=url).get("Tags", {})
    p.expect(both == {"team": "lab", "env": "test"}, f"after TagQueue: {both}")
    p.sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
    left = p.sqs.list_queue_tags(QueueUrl=url).get("Tags", {})
    p.expect(left == {"env": "test"}, f"after UntagQueue: {left}")
    return "create-time tag, tag, untag, list all consistent"
