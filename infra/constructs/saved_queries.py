"""Saved Logs Insights queries (the console's Queries > Saved, folder `<stack>/`) over one log group."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Stack
from aws_cdk import aws_logs as logs
from constructs import Construct


def saved_queries(
    scope: Construct, queries: Mapping[str, str], log_group: logs.ILogGroup
) -> list[logs.CfnQueryDefinition]:
    """One query definition per (name, query), named `<stack>/<name>`, in `scope` as Query0, Query1, ..."""
    stack = Stack.of(scope)
    return [
        logs.CfnQueryDefinition(
            scope,
            f"Query{index}",
            name=f"{stack.stack_name}/{name}",
            query_string=query,
            log_group_names=[log_group.log_group_name],
        )
        for index, (name, query) in enumerate(queries.items())
    ]
