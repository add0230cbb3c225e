"""The product run on this machine, without AWS: the demo and the local stand-ins it runs against.

moto's server and the loopback fakes (tests/fakes) stand in for AWS, Bedrock and the vendors; the real
handlers run unchanged. Where moto stops short of CloudWatch, a stand-in here does CloudWatch's part:

- `environment`: the process environment of every offline run (tests, reliability lab, benchmark, demo)
  and the tables they need;
- `local_stack`: moto and the loopback Bedrock started, every AWS client pointed at them;
- `template_resources`: the synthesized stack's stateful resources created in moto from the template;
- `local_cloudwatch`: EMF lines to metrics (the CloudWatch Logs step), percentiles, the retention rule;
- `local_contributor_insights`: GetInsightRuleReport answered from the EMF lines;
- `alarm_eval`, `alarm_notify`: the template's alarms evaluated, and a breaching one paged through SNS;
- `local_lambda_platform`: what Lambda and API Gateway record about an invocation (`AWS/Lambda`,
  `AWS/ApiGateway`), even one whose handler cannot be imported, and the platform's own failures
  (throttle, timeout, an API that cannot invoke the function);
- `emf`: the EMF documents a call printed;
- `demo` (`make demo`) with `traffic`, `demo_callers`, `demo_collectors`, `demo_limits`, `demo_outage`
  and `dashboard_png`;
- `report`: the product's report (`tools.report`) with its top callers from a file of EMF lines;
- `reliability` (`make reliability`): every property and fault scenario of tests/reliability, measured,
  with its row sources (`reliability_rows`; `reliability_platform`: the service alarms and scanners).

Nothing here ships: the Lambdas and the stack never import it (tests/unit/layout/test_layering.py).
"""
