"""Amazon CloudWatch (and, for the callers' usage table, DynamoDB) public list prices used by the cost
model: the ONE place they are written.

Region us-east-1, standard tier, USD, from https://aws.amazon.com/cloudwatch/pricing/ . Change them here
(and only here) when the price list changes; `bench.cost` reads nothing else. Free-tier allowances are
listed for the notes but the cost table prices gross usage: a real account spends its free tier on
whatever else it runs.
"""

from __future__ import annotations

REGION = "us-east-1"

# Metrics: each unique namespace + metric name + dimension values is one custom metric, prorated hourly.
CUSTOM_METRIC_MONTH = 0.30  # USD per metric per month, first 10,000 metrics
CUSTOM_METRIC_TIER_LIMIT = 10_000  # the next tiers are cheaper; this product stays far below the first

# Alarms (billed per alarm metric per month).
STANDARD_ALARM_METRIC_MONTH = 0.10  # standard resolution (60 s), per alarm metric
HIGH_RESOLUTION_ALARM_METRIC_MONTH = 0.30  # 10 s alarms
ANOMALY_DETECTION_ALARM_METRICS = 3  # an anomaly detection alarm bills as 3 metrics: the metric + 2 bands
# A metric math alarm bills each metric in its expression; a Metrics Insights query alarm bills each
# metric the query analyses (both at the standard alarm-metric price).
COMPOSITE_ALARM_MONTH = 0.50

# Dashboards.
DASHBOARD_MONTH = 3.00  # USD per dashboard per month
FREE_DASHBOARDS = 3  # per account, up to 50 metrics each
FREE_DASHBOARD_METRICS = 50  # a dashboard graphing more is billed like any other

# API requests.
API_REQUESTS_PER_1000 = 0.01  # PutMetricData, ListMetrics, GetMetricStatistics, ...: per 1,000 requests
GET_METRIC_DATA_PER_1000_METRICS = 0.01  # GetMetricData: per 1,000 metrics requested
FREE_API_REQUESTS = 1_000_000  # per month (not GetMetricData / GetMetricWidgetImage)

# Logs (EMF documents are log events: ingestion is what EMF costs).
LOGS_INGESTION_PER_GB = 0.50  # standard log class, per GB ingested
LOGS_STORAGE_PER_GB_MONTH = 0.03  # per GB-month archived (compressed)
FREE_LOGS_GB = 5

HOURS_PER_MONTH = 730  # AWS's billing month

# Contributor Insights for CloudWatch Logs (the top-callers rules).
CONTRIBUTOR_INSIGHTS_RULE_MONTH = 0.50  # USD per rule per month
CONTRIBUTOR_INSIGHTS_PER_MILLION_EVENTS = 0.02  # USD per million log events that match a rule
FREE_CONTRIBUTOR_INSIGHTS_RULES = 1  # and the first million matched events, per month
# GetInsightRuleReport is always charged (never in the 1M free API requests); priced here like the other
# CloudWatch API requests, per 1,000.
GET_INSIGHT_RULE_REPORT_PER_1000 = API_REQUESTS_PER_1000

# Amazon DynamoDB on-demand (standard table class), us-east-1, https://aws.amazon.com/dynamodb/pricing/ :
# the callers' usage table. A write of an item up to 1 KB is 1 WRU (2 in a transaction); a strongly
# consistent read of up to 4 KB is 1 RRU (eventually consistent 0.5, transactional 2).
DYNAMODB_WRU_PER_MILLION = 0.625
DYNAMODB_RRU_PER_MILLION = 0.125

# AWS Key Management Service, https://aws.amazon.com/kms/pricing/ : the stack's customer-managed keys (the
# data key and the alarm topic's). A key with automatic rotation bills $1 more a month for each of its first
# two yearly rotations (so $1, $2, then at most $3 a month); requests ($0.03 per 10,000 after 20,000 free a
# month) are not priced: DynamoDB and CloudWatch Logs cache their data keys for minutes.
KMS_KEY_MONTH = 1.00  # USD per customer-managed key per month, before rotations

# AWS Lambda, https://aws.amazon.com/lambda/pricing/ : the chatbot's duration (arm64, first tier) and
# SnapStart for Python. A version published with SnapStart bills its snapshot cache per GB of the
# function's memory for as long as the version exists (at least 3 hours), and each execution environment
# restored from it bills a restore per GB of memory (the pricing page's SnapStart section and its us-east-1
# example). Since 2025-08-01 the INIT phase of a managed-runtime ZIP function bills as duration (AWS
# Compute Blog, "AWS Lambda standardizes billing for INIT Phase"): what a restore replaces.
LAMBDA_ARM64_GB_SECOND = 0.0000133334
SNAPSTART_CACHE_GB_SECOND = 0.0000015046
SNAPSTART_CACHE_MIN_SECONDS = 3 * 3600
SNAPSTART_RESTORE_PER_GB = 0.0001397998
