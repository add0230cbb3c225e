"""Key and attribute names of the product's DynamoDB tables, shared by the Lambdas and the CDK stack."""

# Response cache (chatbot).
CACHE_PARTITION_KEY = "cache_key"
CACHE_TTL_ATTRIBUTE = "expires_at"

# Collector checkpoints: one item per (source, series).
CHECKPOINT_PARTITION_KEY = "source"
CHECKPOINT_SORT_KEY = "series"
