"""What the chatbot accepts as an HTTP API (payload 2.0) event: Powertools Parser's model, relaxed where
AWS really sends less than it requires.

- `requestContext.http.userAgent`: a request without a User-Agent header carries none.
- `requestContext.authorizer.iam.cognitoIdentity`: filled for callers signing with Cognito identity-pool
  credentials; its fields are optional here, so an unauthenticated identity's sparse block still routes.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model
from aws_lambda_powertools.utilities.parser.models.apigwv2 import (
    RequestContextV2,
    RequestContextV2Authorizer,
    RequestContextV2AuthorizerIam,
    RequestContextV2Http,
)
from pydantic import BaseModel


class _Http(RequestContextV2Http):
    userAgent: str | None = None  # type: ignore[assignment]


class _CognitoIdentity(BaseModel):
    amr: list[str] | None = None
    identityId: str | None = None
    identityPoolId: str | None = None


class _Iam(RequestContextV2AuthorizerIam):
    cognitoIdentity: _CognitoIdentity | None = None  # type: ignore[assignment]


class _Authorizer(RequestContextV2Authorizer):
    iam: _Iam | None = None


class _RequestContext(RequestContextV2):
    http: _Http
    authorizer: _Authorizer | None = None


class HttpApiEvent(APIGatewayProxyEventV2Model):
    requestContext: _RequestContext
