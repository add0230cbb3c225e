"""`python -m offline.report`: the product's report (`tools.report`) against a local account.

The same options, plus `--local-emf FILE`: moto keeps the Contributor Insights rules but has no
GetInsightRuleReport, so the top callers are derived from a file of the chatbot's EMF lines by the local
stand-in (`LocalContributorInsights`), from the rules the (moto) account holds.

    python -m offline.report --endpoint-url http://127.0.0.1:5000 --hours 6 --local-emf out/chatbot.log
"""

from __future__ import annotations

from pathlib import Path

from offline.environment import ensure_paths


def main(argv: list[str] | None = None) -> int:
    ensure_paths()  # `python -m` puts the repository root on the path, not lambdas/ (the catalogue)
    from botocore.exceptions import BotoCoreError, ClientError

    from offline.emf import parse_emf_lines
    from offline.local_contributor_insights import LocalContributorInsights
    from tools.report import arguments, cloudwatch_client, print_report
    from tools.report_options import unreadable

    parser = arguments()
    parser.add_argument(
        "--local-emf",
        type=Path,
        required=True,
        help="derive the top callers from this file's EMF lines (moto has no GetInsightRuleReport)",
    )
    args = parser.parse_args(argv)
    try:
        cloudwatch = cloudwatch_client(args)
        insights = LocalContributorInsights(cloudwatch, parse_emf_lines(args.local_emf.read_text()))
        return print_report(args, cloudwatch, insights)
    except (BotoCoreError, ClientError) as exc:
        return unreadable(args, exc)


if __name__ == "__main__":
    raise SystemExit(main())
