"""Key and attribute names of the product's DynamoDB tables, shared by the Lambdas and the CDK stack."""

# Response cache (chatbot).
CACHE_PARTITION_KEY = "cache_key"
CACHE_TTL_ATTRIBUTE = "expires_at"

# Collector checkpoints: one item per (source, series).
CHECKPOINT_PARTITION_KEY = "source"
CHECKPOINT_SORT_KEY = "series"

# Caller metering (chatbot): one item per (caller, window), e.g. ("arn:aws:iam::1:user/a", "day#2026-12-07").
# Items expire (TTL) after their window has closed; the chatbot touches the table only with these actions.
USAGE_PARTITION_KEY = "caller"
USAGE_SORT_KEY = "window"
USAGE_TTL_ATTRIBUTE = "expires_at"
USAGE_TABLE_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:GetItem",
    "dynamodb:UpdateItem",
)
