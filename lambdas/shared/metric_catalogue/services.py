"""The AWS services' own metrics that this product names: what Lambda, API Gateway, DynamoDB, EventBridge
Scheduler and SQS publish about the resources the stack creates, whatever our code does.

Nothing here is written by the product: the services publish these names in their `AWS/...` namespaces.
They are listed because the stack's service alarms and dashboard row (infra/constructs/service_monitoring.py)
and the demo's stand-in for the platform (offline/local_lambda_platform.py) spell them; the alarms that
cdk-monitoring-constructs or aws-cdk-lib build from their own metric helpers carry the same names. Sources:
the services' CloudWatch metric pages (Lambda "Types of metrics for Lambda functions", API Gateway
"CloudWatch metrics for HTTP APIs", DynamoDB "Metrics and dimensions", EventBridge Scheduler "Monitoring
... with Amazon CloudWatch", SQS "Available CloudWatch metrics").
"""

from __future__ import annotations

from shared.metric_catalogue.core import MetricDef, Unit

# --- Namespaces (AWS's own) ----------------------------------------------------------------------
NS_AWS_LAMBDA = "AWS/Lambda"
NS_AWS_API_GATEWAY = "AWS/ApiGateway"
NS_AWS_DYNAMODB = "AWS/DynamoDB"
NS_AWS_SCHEDULER = "AWS/Scheduler"
NS_AWS_SQS = "AWS/SQS"
SERVICE_NAMESPACES: tuple[str, ...] = (
    NS_AWS_LAMBDA,
    NS_AWS_API_GATEWAY,
    NS_AWS_DYNAMODB,
    NS_AWS_SCHEDULER,
    NS_AWS_SQS,
)

# --- Dimension names -------------------------------------------------------------------------------
DIM_FUNCTION_NAME = "FunctionName"
DIM_API_ID = "ApiId"
DIM_STAGE = "Stage"
DIM_TABLE_NAME = "TableName"
DIM_OPERATION = "Operation"
DIM_SCHEDULE_GROUP = "ScheduleGroup"
DIM_QUEUE_NAME = "QueueName"

# The HTTP API stage the stack deploys (metrics per ApiId and Stage); EventBridge Scheduler's group of
# every schedule created without one.
DEFAULT_STAGE = "$default"
DEFAULT_SCHEDULE_GROUP = "default"

_FN = (DIM_FUNCTION_NAME,)
_API = (DIM_API_ID, DIM_STAGE)
_TABLE = (DIM_TABLE_NAME,)
_GROUP = (DIM_SCHEDULE_GROUP,)

# --- AWS/Lambda (per function) -----------------------------------------------------------------------
LAMBDA_INVOCATIONS = MetricDef(
    NS_AWS_LAMBDA, "Invocations", Unit.COUNT, _FN, "Invocations of the function, failed ones included."
)
LAMBDA_ERRORS = MetricDef(
    NS_AWS_LAMBDA,
    "Errors",
    Unit.COUNT,
    _FN,
    "Invocations that ended in a function error: an exception our handler let out, or one the runtime "
    "raised before or around it (init/import errors, timeouts, out of memory).",
)
LAMBDA_THROTTLES = MetricDef(
    NS_AWS_LAMBDA,
    "Throttles",
    Unit.COUNT,
    _FN,
    "Invocation requests refused for lack of concurrency (reserved or account limit).",
)
LAMBDA_DURATION = MetricDef(
    NS_AWS_LAMBDA, "Duration", Unit.MILLISECONDS, _FN, "Time the function code ran per invocation."
)
LAMBDA_CONCURRENT_EXECUTIONS = MetricDef(
    NS_AWS_LAMBDA,
    "ConcurrentExecutions",
    Unit.COUNT,
    _FN,
    "Instances of the function processing events at once (Maximum per period).",
)

# --- AWS/ApiGateway (HTTP API, per ApiId and Stage) ----------------------------------------------------
API_COUNT = MetricDef(NS_AWS_API_GATEWAY, "Count", Unit.COUNT, _API, "Requests the HTTP API received.")
API_4XX = MetricDef(
    NS_AWS_API_GATEWAY,
    "4xx",
    Unit.COUNT,
    _API,
    "Client-side errors (0 or 1 per request: Average = the 4xx rate): IAM refusals, throttling, 413, 429.",
)
API_5XX = MetricDef(
    NS_AWS_API_GATEWAY,
    "5xx",
    Unit.COUNT,
    _API,
    "Server-side errors (0 or 1 per request: Average = the 5xx rate): our 502s and API Gateway's own 500 "
    "(function error) and 503 (integration timeout).",
)
API_LATENCY = MetricDef(
    NS_AWS_API_GATEWAY, "Latency", Unit.MILLISECONDS, _API, "Request received to response sent."
)
API_INTEGRATION_LATENCY = MetricDef(
    NS_AWS_API_GATEWAY,
    "IntegrationLatency",
    Unit.MILLISECONDS,
    _API,
    "Request relayed to the function to its answer; HTTP APIs stop waiting at 30 s.",
)

# --- AWS/DynamoDB (per table) ---------------------------------------------------------------------------
DYNAMODB_READ_THROTTLE_EVENTS = MetricDef(
    NS_AWS_DYNAMODB, "ReadThrottleEvents", Unit.COUNT, _TABLE, "Read requests the table throttled."
)
DYNAMODB_WRITE_THROTTLE_EVENTS = MetricDef(
    NS_AWS_DYNAMODB, "WriteThrottleEvents", Unit.COUNT, _TABLE, "Write requests the table throttled."
)
DYNAMODB_SYSTEM_ERRORS = MetricDef(
    NS_AWS_DYNAMODB,
    "SystemErrors",
    Unit.COUNT,
    (DIM_OPERATION, DIM_TABLE_NAME),
    "Requests DynamoDB failed with a 500 (its own error), per operation.",
)

# --- AWS/Scheduler (per schedule group) -----------------------------------------------------------------
SCHEDULER_ATTEMPTS = MetricDef(
    NS_AWS_SCHEDULER, "InvocationAttemptCount", Unit.COUNT, _GROUP, "Attempts to invoke a target."
)
SCHEDULER_TARGET_ERRORS = MetricDef(
    NS_AWS_SCHEDULER,
    "TargetErrorCount",
    Unit.COUNT,
    _GROUP,
    "Target invocations that failed (the target's API refused or errored); retried per the retry policy.",
)
SCHEDULER_DROPPED = MetricDef(
    NS_AWS_SCHEDULER,
    "InvocationDroppedCount",
    Unit.COUNT,
    _GROUP,
    "Invocations given up after the retry policy, without reaching a dead-letter queue.",
)
SCHEDULER_SENT_TO_DLQ = MetricDef(
    NS_AWS_SCHEDULER,
    "InvocationsSentToDeadLetterCount",
    Unit.COUNT,
    _GROUP,
    "Invocations delivered to the schedule's dead-letter queue after the retry policy.",
)
SCHEDULER_FAILED_TO_DLQ = MetricDef(
    NS_AWS_SCHEDULER,
    "InvocationsFailedToBeSentToDeadLetterCount",
    Unit.COUNT,
    _GROUP,
    "Invocations the scheduler could deliver neither to the target nor to the dead-letter queue.",
)

# --- AWS/SQS (per queue) ----------------------------------------------------------------------------------
SQS_MESSAGES_VISIBLE = MetricDef(
    NS_AWS_SQS,
    "ApproximateNumberOfMessagesVisible",
    Unit.COUNT,
    (DIM_QUEUE_NAME,),
    "Messages waiting in the queue.",
)

SERVICE_METRICS: tuple[MetricDef, ...] = (
    LAMBDA_INVOCATIONS,
    LAMBDA_ERRORS,
    LAMBDA_THROTTLES,
    LAMBDA_DURATION,
    LAMBDA_CONCURRENT_EXECUTIONS,
    API_COUNT,
    API_4XX,
    API_5XX,
    API_LATENCY,
    API_INTEGRATION_LATENCY,
    DYNAMODB_READ_THROTTLE_EVENTS,
    DYNAMODB_WRITE_THROTTLE_EVENTS,
    DYNAMODB_SYSTEM_ERRORS,
    SCHEDULER_ATTEMPTS,
    SCHEDULER_TARGET_ERRORS,
    SCHEDULER_DROPPED,
    SCHEDULER_SENT_TO_DLQ,
    SCHEDULER_FAILED_TO_DLQ,
    SQS_MESSAGES_VISIBLE,
)
