"""The DSL's typed models, generated from schema/workflow.yaml by scripts/gen_models.py.

Do not edit: change the script (or the schema) and regenerate.
"""

# ruff: noqa: RUF001

from __future__ import annotations

from re import compile
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypeAliasType


class Document(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    dsl: Annotated[
        str,
        Field(
            description="The version of the DSL used by the workflow.",
            pattern="^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$",
            title="WorkflowDSL",
        ),
    ]
    namespace: Annotated[
        str,
        Field(
            description="The workflow's namespace.",
            pattern="^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$",
            title="WorkflowNamespace",
        ),
    ]
    name: Annotated[
        str,
        Field(
            description="The workflow's name.",
            pattern="^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$",
            title="WorkflowName",
        ),
    ]
    version: Annotated[
        str,
        Field(
            description="The workflow's semantic version.",
            pattern="^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$",
            title="WorkflowVersion",
        ),
    ]
    title: Annotated[
        str | None, Field(description="The workflow's title.", title="WorkflowTitle")
    ] = None
    summary: Annotated[
        str | None, Field(description="The workflow's Markdown summary.", title="WorkflowSummary")
    ] = None
    tags: Annotated[
        dict[str, Any] | None,
        Field(
            description="A key/value mapping of the workflow's tags, if any.", title="WorkflowTags"
        ),
    ] = None
    metadata: Annotated[
        dict[str, Any] | None,
        Field(
            description="Holds additional information about the workflow.", title="WorkflowMetadata"
        ),
    ] = None


class McpStdioTransport(BaseModel):
    command: Annotated[
        str,
        Field(
            description="The command used to run the MCP server.", title="McpStdioTransportCommand"
        ),
    ]
    arguments: Annotated[
        list[str] | None,
        Field(
            description="An optional list of arguments to pass to the command.",
            title="McpStdioTransportArguments",
        ),
    ] = None
    environment: Annotated[
        dict[str, str] | None,
        Field(
            description="A key/value mapping, if any, of environment variables used to configure the MCP server.",
            title="McpStdioTransportEnvironment",
        ),
    ] = None


class McpStdioTransport1(BaseModel):
    command: Annotated[
        str,
        Field(
            description="The command used to run the MCP server.", title="McpStdioTransportCommand"
        ),
    ]
    arguments: Annotated[
        list[str] | None,
        Field(
            description="An optional list of arguments to pass to the command.",
            title="McpStdioTransportArguments",
        ),
    ] = None
    environment: Annotated[
        dict[str, str] | None,
        Field(
            description="A key/value mapping, if any, of environment variables used to configure the MCP server.",
            title="McpStdioTransportEnvironment",
        ),
    ] = None


class McpClient(BaseModel):
    name: Annotated[
        str,
        Field(
            description="The name of the client used to connect to the MCP server.",
            title="McpClientName",
        ),
    ]
    description: Annotated[
        str | None,
        Field(
            description="The version of the client used to connect to the MCP server.",
            title="McpClientVersion",
        ),
    ] = None


class ForkTaskConfiguration(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    branches: Annotated[list[dict[str, dict[str, Any]]], Field(title="ForkBranches")]
    compete: Annotated[
        bool | None,
        Field(
            description="Indicates whether or not the concurrent tasks are racing against each other, with a single possible winner, which sets the composite task's output.",
            title="ForkCompete",
        ),
    ] = False


class ForTaskConfiguration(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    each: Annotated[
        str | None,
        Field(
            description="The name of the variable used to store the current item being enumerated.",
            title="ForEach",
        ),
    ] = "item"
    in_: Annotated[
        str,
        Field(
            alias="in",
            description="A runtime expression used to get the collection to enumerate.",
            title="ForIn",
        ),
    ]
    at: Annotated[
        str | None,
        Field(
            description="The name of the variable used to store the index of the current item being enumerated.",
            title="ForAt",
        ),
    ] = "index"


class InlineScript(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    language: Annotated[
        str, Field(description="The language of the script to run.", title="ScriptLanguage")
    ]
    stdin: Annotated[
        str | None,
        Field(
            description="A runtime expression, if any, to the script as standard input (stdin).",
            title="ScriptStdin",
        ),
    ] = None
    arguments: Annotated[
        list[str] | None,
        Field(
            description="A list of the arguments, if any, to the script as argv",
            title="ScriptArguments",
        ),
    ] = None
    environment: Annotated[
        dict[str, Any] | None,
        Field(
            description="A key/value mapping of the environment variables, if any, to use when running the configured script process.",
            title="ScriptEnvironment",
        ),
    ] = None
    code: Annotated[str, Field(title="InlineScriptCode")]


class Shell(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    command: Annotated[str, Field(description="The shell command to run.", title="ShellCommand")]
    stdin: Annotated[
        str | None,
        Field(
            description="A runtime expression, if any, to the shell command as standard input (stdin).",
            title="ShellStdin",
        ),
    ] = None
    arguments: Annotated[
        list[str] | None,
        Field(
            description="A list of the arguments, if any, to the shell command as argv",
            title="ShellArguments",
        ),
    ] = None
    environment: Annotated[
        dict[str, Any] | None,
        Field(
            description="A key/value mapping of the environment variables, if any, to use when running the configured process.",
            title="ShellEnvironment",
        ),
    ] = None


class RunShell(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    await_: Annotated[
        bool | None,
        Field(
            alias="await",
            description="Whether to await the process completion before continuing.",
            title="AwaitProcessCompletion",
        ),
    ] = True
    return_: Annotated[
        Literal["stdout", "stderr", "code", "all", "none"] | None,
        Field(
            alias="return",
            description="Configures the output of the process.",
            title="ProcessReturnType",
        ),
    ] = "stdout"
    shell: Annotated[
        Shell, Field(description="The configuration of the shell command to run.", title="Shell")
    ]


class SubflowConfiguration(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    namespace: Annotated[
        str,
        Field(
            description="The namespace the workflow to run belongs to.", title="SubflowNamespace"
        ),
    ]
    name: Annotated[str, Field(description="The name of the workflow to run.", title="SubflowName")]
    version: Annotated[
        str,
        Field(
            description="The version of the workflow to run. Defaults to latest.",
            title="SubflowVersion",
        ),
    ]
    input: Annotated[
        dict[str, Any] | None,
        Field(
            description="The data, if any, to pass as input to the workflow to execute. The value should be validated against the target workflow's input schema, if specified.",
            title="SubflowInput",
        ),
    ] = None


class RunWorkflow(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    await_: Annotated[
        bool | None,
        Field(
            alias="await",
            description="Whether to await the process completion before continuing.",
            title="AwaitProcessCompletion",
        ),
    ] = True
    return_: Annotated[
        Literal["stdout", "stderr", "code", "all", "none"] | None,
        Field(
            alias="return",
            description="Configures the output of the process.",
            title="ProcessReturnType",
        ),
    ] = "stdout"
    workflow: Annotated[
        SubflowConfiguration,
        Field(
            description="The configuration of the workflow to run.", title="SubflowConfiguration"
        ),
    ]


class AuthenticationPolicyReference(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    use: Annotated[
        str,
        Field(
            description="The name of the authentication policy to use.",
            min_length=1,
            title="ReferenceableAuthenticationPolicyName",
        ),
    ]


class SecretBasedAuthenticationPolicy(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    use: Annotated[
        str,
        Field(
            description="The name of the authentication policy to use.",
            min_length=1,
            title="SecretBasedAuthenticationPolicyName",
        ),
    ]


class BasicAuthenticationProperties(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    username: Annotated[str, Field(description="The username to use.")]
    password: Annotated[str, Field(description="The password to use.")]


class BasicAuthenticationPolicy(BaseModel):
    basic: Annotated[
        BasicAuthenticationProperties | SecretBasedAuthenticationPolicy,
        Field(
            description="The configuration of the basic authentication policy.",
            title="BasicAuthenticationPolicyConfiguration",
        ),
    ]


class BearerAuthenticationProperties(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    token: Annotated[str, Field(description="The bearer token to use.")]


class BearerAuthenticationPolicy(BaseModel):
    bearer: Annotated[
        BearerAuthenticationProperties | SecretBasedAuthenticationPolicy,
        Field(
            description="The configuration of the bearer authentication policy.",
            title="BearerAuthenticationPolicyConfiguration",
        ),
    ]


class DigestAuthenticationProperties(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    username: Annotated[str, Field(description="The username to use.")]
    password: Annotated[str, Field(description="The password to use.")]


class DigestAuthenticationPolicy(BaseModel):
    digest: Annotated[
        DigestAuthenticationProperties | SecretBasedAuthenticationPolicy,
        Field(
            description="The configuration of the digest authentication policy.",
            title="DigestAuthenticationPolicyConfiguration",
        ),
    ]


class OAuth2AuthenticationDataClient(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    id: Annotated[str | None, Field(description="The client id to use.", title="ClientId")] = None
    secret: Annotated[
        str | None, Field(description="The client secret to use, if any.", title="ClientSecret")
    ] = None
    assertion: Annotated[
        str | None,
        Field(
            description="A JWT containing a signed assertion with your application credentials.",
            title="ClientAssertion",
        ),
    ] = None
    authentication: Annotated[
        Literal[
            "client_secret_basic",
            "client_secret_post",
            "client_secret_jwt",
            "private_key_jwt",
            "none",
        ]
        | None,
        Field(
            description="The authentication method to use to authenticate the client.",
            title="ClientAuthentication",
        ),
    ] = "client_secret_post"


class OAuth2TokenRequest(BaseModel):
    encoding: Annotated[
        Literal["application/x-www-form-urlencoded", "application/json"] | None,
        Field(title="Oauth2TokenRequestEncoding"),
    ] = "application/x-www-form-urlencoded"


class OAuth2AuthenticationPropertiesEndpoints(BaseModel):
    token: Annotated[
        str | None,
        Field(
            description="The relative path to the token endpoint. Defaults to `/oauth2/token`.",
            title="OAuth2TokenEndpoint",
        ),
    ] = "/oauth2/token"
    revocation: Annotated[
        str | None,
        Field(
            description="The relative path to the revocation endpoint. Defaults to `/oauth2/revoke`.",
            title="OAuth2RevocationEndpoint",
        ),
    ] = "/oauth2/revoke"
    introspection: Annotated[
        str | None,
        Field(
            description="The relative path to the introspection endpoint. Defaults to `/oauth2/introspect`.",
            title="OAuth2IntrospectionEndpoint",
        ),
    ] = "/oauth2/introspect"


class OAuth2AuthenticationDataClient1(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    id: Annotated[str | None, Field(description="The client id to use.", title="ClientId")] = None
    secret: Annotated[
        str | None, Field(description="The client secret to use, if any.", title="ClientSecret")
    ] = None
    assertion: Annotated[
        str | None,
        Field(
            description="A JWT containing a signed assertion with your application credentials.",
            title="ClientAssertion",
        ),
    ] = None
    authentication: Annotated[
        Literal[
            "client_secret_basic",
            "client_secret_post",
            "client_secret_jwt",
            "private_key_jwt",
            "none",
        ]
        | None,
        Field(
            description="The authentication method to use to authenticate the client.",
            title="ClientAuthentication",
        ),
    ] = "client_secret_post"


class OAuth2TokenRequest1(BaseModel):
    encoding: Annotated[
        Literal["application/x-www-form-urlencoded", "application/json"] | None,
        Field(title="Oauth2TokenRequestEncoding"),
    ] = "application/x-www-form-urlencoded"


class OAuth2AuthenticationDataClient2(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    id: Annotated[str | None, Field(description="The client id to use.", title="ClientId")] = None
    secret: Annotated[
        str | None, Field(description="The client secret to use, if any.", title="ClientSecret")
    ] = None
    assertion: Annotated[
        str | None,
        Field(
            description="A JWT containing a signed assertion with your application credentials.",
            title="ClientAssertion",
        ),
    ] = None
    authentication: Annotated[
        Literal[
            "client_secret_basic",
            "client_secret_post",
            "client_secret_jwt",
            "private_key_jwt",
            "none",
        ]
        | None,
        Field(
            description="The authentication method to use to authenticate the client.",
            title="ClientAuthentication",
        ),
    ] = "client_secret_post"


class OAuth2TokenRequest2(BaseModel):
    encoding: Annotated[
        Literal["application/x-www-form-urlencoded", "application/json"] | None,
        Field(title="Oauth2TokenRequestEncoding"),
    ] = "application/x-www-form-urlencoded"


class OAuth2TokenDefinition(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    token: Annotated[str, Field(description="The security token to use.", title="OAuth2Token")]
    type: Annotated[
        str, Field(description="The type of the security token to use.", title="OAuth2TokenType")
    ]


class DurationInline(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    days: Annotated[
        int | None, Field(description="Number of days, if any.", title="DurationDays")
    ] = None
    hours: Annotated[
        int | None, Field(description="Number of days, if any.", title="DurationHours")
    ] = None
    minutes: Annotated[
        int | None, Field(description="Number of minutes, if any.", title="DurationMinutes")
    ] = None
    seconds: Annotated[
        int | None, Field(description="Number of seconds, if any.", title="DurationSeconds")
    ] = None
    milliseconds: Annotated[
        int | None,
        Field(description="Number of milliseconds, if any.", title="DurationMilliseconds"),
    ] = None


DurationLiteral = TypeAliasType(
    "DurationLiteral",
    Annotated[
        str,
        Field(
            description="The Literal ISO 8601 representation of a duration.",
            pattern=compile(
                "^P(?!$)(\\d+(?:\\.\\d+)?Y)?(\\d+(?:\\.\\d+)?M)?(\\d+(?:\\.\\d+)?W)?(\\d+(?:\\.\\d+)?D)?(T(?=\\d)(\\d+(?:\\.\\d+)?H)?(\\d+(?:\\.\\d+)?M)?(\\d+(?:\\.\\d+)?S)?)?$"
            ),
            title="DurationLiteral",
        ),
    ],
)


class ErrorFilter(BaseModel):
    type: Annotated[
        str | None, Field(description="if present, means this value should be used for filtering")
    ] = None
    status: Annotated[
        int | None, Field(description="if present, means this value should be used for filtering")
    ] = None
    instance: Annotated[
        str | None, Field(description="if present, means this value should be used for filtering")
    ] = None
    title: Annotated[
        str | None, Field(description="if present, means this value should be used for filtering")
    ] = None
    details: Annotated[
        str | None, Field(description="if present, means this value should be used for filtering")
    ] = None


LiteralUriTemplate = TypeAliasType(
    "LiteralUriTemplate",
    Annotated[str, Field(pattern="^[A-Za-z][A-Za-z0-9+\\-.]*://.*", title="LiteralUriTemplate")],
)


LiteralUri = TypeAliasType(
    "LiteralUri",
    Annotated[str, Field(pattern="^[A-Za-z][A-Za-z0-9+\\-.]*://.*", title="LiteralUri")],
)


UriTemplate = TypeAliasType(
    "UriTemplate", Annotated[LiteralUriTemplate | LiteralUri, Field(title="UriTemplate")]
)


class EventFilterCorrelate(BaseModel):
    from_: Annotated[
        str,
        Field(
            alias="from",
            description="A runtime expression used to extract the correlation value from the filtered event.",
            title="CorrelateFrom",
        ),
    ]
    expect: Annotated[
        str | None,
        Field(
            description="A constant or a runtime expression, if any, used to determine whether or not the extracted correlation value matches expectations. If not set, the first extracted value will be used as the correlation's expectation.",
            title="CorrelateExpect",
        ),
    ] = None


class Extension(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    extend: Annotated[
        Literal[
            "call",
            "composite",
            "emit",
            "for",
            "listen",
            "raise",
            "run",
            "set",
            "switch",
            "try",
            "wait",
            "all",
        ],
        Field(description="The type of task to extend.", title="ExtensionTarget"),
    ]
    when: Annotated[
        str | None,
        Field(
            description="A runtime expression, if any, used to determine whether or not the extension should apply in the specified context.",
            title="ExtensionCondition",
        ),
    ] = None
    before: Annotated[
        list[dict[str, dict[str, Any]]] | None,
        Field(
            description="The task(s) to execute before the extended task, if any.",
            title="ExtensionDoBefore",
        ),
    ] = None
    after: Annotated[
        list[dict[str, dict[str, Any]]] | None,
        Field(
            description="The task(s) to execute after the extended task, if any.",
            title="ExtensionDoAfter",
        ),
    ] = None


class ConstantBackoff(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    constant: Annotated[
        dict[str, Any], Field(description="The definition of the constant backoff to use, if any.")
    ]


class ExponentialBackOff(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    exponential: Annotated[
        dict[str, Any],
        Field(description="The definition of the exponential backoff to use, if any."),
    ]


class LinearBackoff(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    linear: Annotated[
        dict[str, Any], Field(description="The definition of the linear backoff to use, if any.")
    ]


class SchemaInline(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    format: Annotated[
        str | None,
        Field(
            description="The schema's format. Defaults to 'json'. The (optional) version of the format can be set using `{format}:{version}`.",
            title="SchemaFormat",
        ),
    ] = "json"
    document: Annotated[Any, Field(description="The schema's inline definition.")]


RuntimeExpression = TypeAliasType(
    "RuntimeExpression",
    Annotated[
        str,
        Field(
            description="A runtime expression.",
            pattern="^\\s*\\$\\{.+\\}\\s*$",
            title="RuntimeExpression",
        ),
    ],
)


class ProcessResult(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    code: Annotated[int, Field(description="The process's exit code.", title="ProcessExitCode")]
    stdout: Annotated[
        str,
        Field(description="The content of the process's STDOUT.", title="ProcessStandardOutput"),
    ]
    stderr: Annotated[
        str, Field(description="The content of the process's STDERR.", title="ProcessStandardError")
    ]


class AsyncApiServer(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    name: Annotated[str, Field(description="The target server's name.", title="AsyncApiServerName")]
    variables: Annotated[
        dict[str, Any] | None,
        Field(
            description="The target server's variables, if any.", title="AsyncApiServerVariables"
        ),
    ] = None


class AsyncApiOutboundMessage(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    payload: Annotated[
        dict[str, Any] | None,
        Field(description="The message's payload, if any.", title="AsyncApiMessagePayload"),
    ] = None
    headers: Annotated[
        dict[str, Any] | None,
        Field(description="The message's headers, if any.", title="AsyncApiMessageHeaders"),
    ] = None


class AsyncApiInboundMessage(AsyncApiOutboundMessage):
    correlationId: Annotated[
        str | None,
        Field(
            description="The message's correlation id, if any.",
            title="AsyncApiMessageCorrelationId",
        ),
    ] = None


ExtensionItem = TypeAliasType(
    "ExtensionItem",
    Annotated[dict[str, Extension], Field(max_length=1, min_length=1, title="ExtensionItem")],
)


class EmitEventWith(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: Annotated[
        str | None, Field(description="The event's unique identifier.", title="EventId")
    ] = None
    source: Annotated[
        RuntimeExpression | LiteralUriTemplate | LiteralUri,
        Field(
            description="Identifies the context in which an event happened.", title="EventSource"
        ),
    ]
    type: Annotated[
        str,
        Field(
            description="This attribute contains a value describing the type of event related to the originating occurrence.",
            title="EventType",
        ),
    ]
    time: Annotated[
        RuntimeExpression | str | None,
        Field(description="When the event occured.", title="EventTime"),
    ] = None
    subject: Annotated[
        str | None, Field(description="The subject of the event.", title="EventSubject")
    ] = None
    datacontenttype: Annotated[
        str | None,
        Field(
            description="Content type of data value. This attribute enables data to carry any type of content, whereby format and encoding might differ from that of the chosen event format.",
            title="EventDataContentType",
        ),
    ] = None
    dataschema: Annotated[
        RuntimeExpression | LiteralUriTemplate | LiteralUri | None,
        Field(description="The schema describing the event format.", title="EventDataschema"),
    ] = None
    data: Annotated[
        RuntimeExpression | Any | None,
        Field(description="The event's payload data", title="EventData"),
    ] = None


class EmitEventDefinition(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    with_: Annotated[
        EmitEventWith | None,
        Field(
            alias="with",
            description="Defines the properties of event to emit.",
            title="EmitEventWith",
        ),
    ] = None


class EmitTaskConfiguration(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    event: Annotated[
        EmitEventDefinition,
        Field(description="The definition of the event to emit.", title="EmitEventDefinition"),
    ]


class SwitchCase(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    when: Annotated[
        str | None,
        Field(
            description="A runtime expression used to determine whether or not the case matches.",
            title="SwitchCaseCondition",
        ),
    ] = None
    then: Annotated[
        str | Literal["continue", "exit", "end"],
        Field(
            description="The flow directive to execute when the case matches.",
            title="SwitchCaseOutcome",
        ),
    ]


SwitchItem = TypeAliasType(
    "SwitchItem",
    Annotated[dict[str, SwitchCase], Field(max_length=1, min_length=1, title="SwitchItem")],
)


class CatchErrors(BaseModel):
    with_: Annotated[ErrorFilter | None, Field(alias="with")] = None


class OAuth2ConnectAuthenticationProperties(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    authority: Annotated[
        LiteralUriTemplate | LiteralUri | None,
        Field(
            description="The URI that references the OAuth2 authority to use.",
            title="OAuth2AuthenticationDataAuthority",
        ),
    ] = None
    grant: Annotated[
        Literal[
            "authorization_code",
            "client_credentials",
            "password",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ]
        | None,
        Field(description="The grant type to use.", title="OAuth2AuthenticationDataGrant"),
    ] = None
    client: Annotated[
        OAuth2AuthenticationDataClient | None,
        Field(
            description="The definition of an OAuth2 client.",
            title="OAuth2AuthenticationDataClient",
        ),
    ] = None
    request: Annotated[
        OAuth2TokenRequest | None,
        Field(
            description="The configuration of an OAuth2 token request", title="OAuth2TokenRequest"
        ),
    ] = None
    issuers: Annotated[
        list[str] | None,
        Field(
            description="A list that contains that contains valid issuers that will be used to check against the issuer of generated tokens.",
            title="OAuth2Issuers",
        ),
    ] = None
    scopes: Annotated[
        list[str] | None,
        Field(
            description="The scopes, if any, to request the token for.",
            title="OAuth2AuthenticationDataScopes",
        ),
    ] = None
    audiences: Annotated[
        list[str] | None,
        Field(
            description="The audiences, if any, to request the token for.",
            title="OAuth2AuthenticationDataAudiences",
        ),
    ] = None
    username: Annotated[
        str | None,
        Field(
            description="The username to use. Used only if the grant type is Password.",
            title="OAuth2AuthenticationDataUsername",
        ),
    ] = None
    password: Annotated[
        str | None,
        Field(
            description="The password to use. Used only if the grant type is Password.",
            title="OAuth2AuthenticationDataPassword",
        ),
    ] = None
    subject: Annotated[
        OAuth2TokenDefinition | None,
        Field(
            description="The security token that represents the identity of the party on behalf of whom the request is being made.",
            title="OAuth2AuthenticationDataSubject",
        ),
    ] = None
    actor: Annotated[
        OAuth2TokenDefinition | None,
        Field(
            description="The security token that represents the identity of the acting party.",
            title="OAuth2AuthenticationDataActor",
        ),
    ] = None
    endpoints: Annotated[
        OAuth2AuthenticationPropertiesEndpoints | None,
        Field(
            description="The endpoint configurations for OAuth2.",
            title="OAuth2AuthenticationPropertiesEndpoints",
        ),
    ] = None


class OAuth2AuthenticationPolicy(BaseModel):
    oauth2: Annotated[
        OAuth2ConnectAuthenticationProperties | SecretBasedAuthenticationPolicy,
        Field(
            description="The configuration of the OAuth2 authentication policy.",
            title="OAuth2AuthenticationPolicyConfiguration",
        ),
    ]


class OpenIdConnectAuthenticationProperties(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    authority: Annotated[
        LiteralUriTemplate | LiteralUri | None,
        Field(
            description="The URI that references the OAuth2 authority to use.",
            title="OAuth2AuthenticationDataAuthority",
        ),
    ] = None
    grant: Annotated[
        Literal[
            "authorization_code",
            "client_credentials",
            "password",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ]
        | None,
        Field(description="The grant type to use.", title="OAuth2AuthenticationDataGrant"),
    ] = None
    client: Annotated[
        OAuth2AuthenticationDataClient1 | None,
        Field(
            description="The definition of an OAuth2 client.",
            title="OAuth2AuthenticationDataClient",
        ),
    ] = None
    request: Annotated[
        OAuth2TokenRequest1 | None,
        Field(
            description="The configuration of an OAuth2 token request", title="OAuth2TokenRequest"
        ),
    ] = None
    issuers: Annotated[
        list[str] | None,
        Field(
            description="A list that contains that contains valid issuers that will be used to check against the issuer of generated tokens.",
            title="OAuth2Issuers",
        ),
    ] = None
    scopes: Annotated[
        list[str] | None,
        Field(
            description="The scopes, if any, to request the token for.",
            title="OAuth2AuthenticationDataScopes",
        ),
    ] = None
    audiences: Annotated[
        list[str] | None,
        Field(
            description="The audiences, if any, to request the token for.",
            title="OAuth2AuthenticationDataAudiences",
        ),
    ] = None
    username: Annotated[
        str | None,
        Field(
            description="The username to use. Used only if the grant type is Password.",
            title="OAuth2AuthenticationDataUsername",
        ),
    ] = None
    password: Annotated[
        str | None,
        Field(
            description="The password to use. Used only if the grant type is Password.",
            title="OAuth2AuthenticationDataPassword",
        ),
    ] = None
    subject: Annotated[
        OAuth2TokenDefinition | None,
        Field(
            description="The security token that represents the identity of the party on behalf of whom the request is being made.",
            title="OAuth2AuthenticationDataSubject",
        ),
    ] = None
    actor: Annotated[
        OAuth2TokenDefinition | None,
        Field(
            description="The security token that represents the identity of the acting party.",
            title="OAuth2AuthenticationDataActor",
        ),
    ] = None


class OpenIdConnectAuthenticationPolicy(BaseModel):
    oidc: Annotated[
        OpenIdConnectAuthenticationProperties | SecretBasedAuthenticationPolicy,
        Field(
            description="The configuration of the OpenIdConnect authentication policy.",
            title="OpenIdConnectAuthenticationPolicyConfiguration",
        ),
    ]


class OAuth2AuthenticationData(BaseModel):
    authority: Annotated[
        LiteralUriTemplate | LiteralUri | None,
        Field(
            description="The URI that references the OAuth2 authority to use.",
            title="OAuth2AuthenticationDataAuthority",
        ),
    ] = None
    grant: Annotated[
        Literal[
            "authorization_code",
            "client_credentials",
            "password",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ]
        | None,
        Field(description="The grant type to use.", title="OAuth2AuthenticationDataGrant"),
    ] = None
    client: Annotated[
        OAuth2AuthenticationDataClient2 | None,
        Field(
            description="The definition of an OAuth2 client.",
            title="OAuth2AuthenticationDataClient",
        ),
    ] = None
    request: Annotated[
        OAuth2TokenRequest2 | None,
        Field(
            description="The configuration of an OAuth2 token request", title="OAuth2TokenRequest"
        ),
    ] = None
    issuers: Annotated[
        list[str] | None,
        Field(
            description="A list that contains that contains valid issuers that will be used to check against the issuer of generated tokens.",
            title="OAuth2Issuers",
        ),
    ] = None
    scopes: Annotated[
        list[str] | None,
        Field(
            description="The scopes, if any, to request the token for.",
            title="OAuth2AuthenticationDataScopes",
        ),
    ] = None
    audiences: Annotated[
        list[str] | None,
        Field(
            description="The audiences, if any, to request the token for.",
            title="OAuth2AuthenticationDataAudiences",
        ),
    ] = None
    username: Annotated[
        str | None,
        Field(
            description="The username to use. Used only if the grant type is Password.",
            title="OAuth2AuthenticationDataUsername",
        ),
    ] = None
    password: Annotated[
        str | None,
        Field(
            description="The password to use. Used only if the grant type is Password.",
            title="OAuth2AuthenticationDataPassword",
        ),
    ] = None
    subject: Annotated[
        OAuth2TokenDefinition | None,
        Field(
            description="The security token that represents the identity of the party on behalf of whom the request is being made.",
            title="OAuth2AuthenticationDataSubject",
        ),
    ] = None
    actor: Annotated[
        OAuth2TokenDefinition | None,
        Field(
            description="The security token that represents the identity of the acting party.",
            title="OAuth2AuthenticationDataActor",
        ),
    ] = None


class Error(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    type: Annotated[
        RuntimeExpression | LiteralUriTemplate | LiteralUri,
        Field(description="A URI reference that identifies the error type.", title="ErrorType"),
    ]
    status: Annotated[
        int,
        Field(
            description="The status code generated by the origin for this occurrence of the error.",
            title="ErrorStatus",
        ),
    ]
    instance: Annotated[
        RuntimeExpression | str | None,
        Field(
            description="A JSON Pointer used to reference the component the error originates from.",
            title="ErrorInstance",
        ),
    ] = None
    title: Annotated[
        RuntimeExpression | str | None,
        Field(description="A short, human-readable summary of the error.", title="ErrorTitle"),
    ] = None
    detail: Annotated[
        RuntimeExpression | str | None,
        Field(
            description="A human-readable explanation specific to this occurrence of the error.",
            title="ErrorDetails",
        ),
    ] = None


class EventProperties(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: Annotated[
        str | None, Field(description="The event's unique identifier.", title="EventId")
    ] = None
    source: Annotated[
        RuntimeExpression | LiteralUriTemplate | LiteralUri | None,
        Field(
            description="Identifies the context in which an event happened.", title="EventSource"
        ),
    ] = None
    type: Annotated[
        str | None,
        Field(
            description="This attribute contains a value describing the type of event related to the originating occurrence.",
            title="EventType",
        ),
    ] = None
    time: Annotated[
        RuntimeExpression | str | None,
        Field(description="When the event occured.", title="EventTime"),
    ] = None
    subject: Annotated[
        str | None, Field(description="The subject of the event.", title="EventSubject")
    ] = None
    datacontenttype: Annotated[
        str | None,
        Field(
            description="Content type of data value. This attribute enables data to carry any type of content, whereby format and encoding might differ from that of the chosen event format.",
            title="EventDataContentType",
        ),
    ] = None
    dataschema: Annotated[
        RuntimeExpression | LiteralUriTemplate | LiteralUri | None,
        Field(description="The schema describing the event format.", title="EventDataschema"),
    ] = None
    data: Annotated[
        RuntimeExpression | Any | None,
        Field(description="The event's payload data", title="EventData"),
    ] = None


class WithEvent(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    id: Annotated[
        str | None, Field(description="The event's unique identifier.", title="EventId")
    ] = None
    source: Annotated[
        RuntimeExpression | LiteralUriTemplate | LiteralUri | None,
        Field(
            description="Identifies the context in which an event happened.", title="EventSource"
        ),
    ] = None
    type: Annotated[
        str | None,
        Field(
            description="This attribute contains a value describing the type of event related to the originating occurrence.",
            title="EventType",
        ),
    ] = None
    time: Annotated[
        RuntimeExpression | str | None,
        Field(description="When the event occured.", title="EventTime"),
    ] = None
    subject: Annotated[
        str | None, Field(description="The subject of the event.", title="EventSubject")
    ] = None
    datacontenttype: Annotated[
        str | None,
        Field(
            description="Content type of data value. This attribute enables data to carry any type of content, whereby format and encoding might differ from that of the chosen event format.",
            title="EventDataContentType",
        ),
    ] = None
    dataschema: Annotated[
        RuntimeExpression | LiteralUriTemplate | LiteralUri | None,
        Field(description="The schema describing the event format.", title="EventDataschema"),
    ] = None
    data: Annotated[
        RuntimeExpression | Any | None,
        Field(description="The event's payload data", title="EventData"),
    ] = None


class EventFilter(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    with_: Annotated[
        WithEvent,
        Field(
            alias="with",
            description="An event filter is a mechanism used to selectively process or handle events based on predefined criteria, such as event type, source, or specific attributes.",
            title="WithEvent",
        ),
    ]
    correlate: Annotated[
        dict[str, EventFilterCorrelate] | None,
        Field(
            description="A correlation is a link between events and data, established by mapping event attributes to specific data attributes, allowing for coordinated processing or handling based on event characteristics.",
            title="EventFilterCorrelate",
        ),
    ] = None


class RetryLimitAttempt(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    count: Annotated[
        int | None,
        Field(
            description="The maximum amount of retry attempts, if any.",
            title="RetryLimitAttemptCount",
        ),
    ] = None
    duration: Annotated[
        DurationInline | RuntimeExpression | DurationLiteral | None,
        Field(
            description="The maximum duration for each retry attempt.",
            title="RetryLimitAttemptDuration",
        ),
    ] = None


class RetryLimit(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    attempt: Annotated[RetryLimitAttempt | None, Field(title="RetryLimitAttempt")] = None
    duration: Annotated[
        DurationInline | RuntimeExpression | DurationLiteral | None,
        Field(
            description="The duration limit, if any, for all retry attempts.",
            title="RetryLimitDuration",
        ),
    ] = None


class RetryPolicyJitter(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    from_: Annotated[
        DurationInline | RuntimeExpression | DurationLiteral,
        Field(
            alias="from",
            description="The minimum duration of the jitter range.",
            title="RetryPolicyJitterFrom",
        ),
    ]
    to: Annotated[
        DurationInline | RuntimeExpression | DurationLiteral,
        Field(description="The maximum duration of the jitter range.", title="RetryPolicyJitterTo"),
    ]


class RetryPolicy(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    when: Annotated[
        str | None,
        Field(
            description="A runtime expression, if any, used to determine whether or not to retry running the task, in a given context.",
            title="RetryWhen",
        ),
    ] = None
    exceptWhen: Annotated[
        str | None,
        Field(
            description="A runtime expression used to determine whether or not to retry running the task, in a given context.",
            title="RetryExcepWhen",
        ),
    ] = None
    delay: Annotated[
        DurationInline | RuntimeExpression | DurationLiteral | None,
        Field(description="The duration to wait between retry attempts.", title="RetryDelay"),
    ] = None
    backoff: Annotated[
        ConstantBackoff | ExponentialBackOff | LinearBackoff | None,
        Field(description="The retry duration backoff.", title="RetryBackoff"),
    ] = None
    limit: Annotated[
        RetryLimit | None, Field(description="The retry limit, if any.", title="RetryLimit")
    ] = None
    jitter: Annotated[
        RetryPolicyJitter | None,
        Field(
            description="The parameters, if any, that control the randomness or variability of the delay between retry attempts.",
            title="RetryPolicyJitter",
        ),
    ] = None


class Timeout(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    after: Annotated[
        DurationInline | RuntimeExpression | DurationLiteral,
        Field(description="The duration after which to timeout.", title="TimeoutAfter"),
    ]


class ContainerLifetime(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    cleanup: Annotated[
        Literal["always", "never", "eventually"],
        Field(description="The container cleanup policy to use", title="ContainerCleanupPolicy"),
    ]
    after: Annotated[
        DurationInline | RuntimeExpression | DurationLiteral | None,
        Field(
            description="The duration after which to cleanup the container, in case the cleanup policy has been set to 'eventually'",
            title="ContainerLifetimeDuration",
        ),
    ] = None


class AsyncApiMessageConsumptionPolicyAmount(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    for_: Annotated[
        DurationInline | RuntimeExpression | DurationLiteral | None,
        Field(
            alias="for",
            description="Specifies the time period over which messages will be consumed.",
            title="AsyncApiMessageConsumptionPolicyFor",
        ),
    ] = None
    amount: Annotated[
        int,
        Field(
            description="The amount of (filtered) messages to consume before disposing of the subscription."
        ),
    ]


class AsyncApiMessageConsumptionPolicyWhile(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    for_: Annotated[
        DurationInline | RuntimeExpression | DurationLiteral | None,
        Field(
            alias="for",
            description="Specifies the time period over which messages will be consumed.",
            title="AsyncApiMessageConsumptionPolicyFor",
        ),
    ] = None
    while_: Annotated[
        str,
        Field(
            alias="while",
            description="A runtime expression evaluated after each consumed (filtered) message to decide if message consumption should continue.",
            pattern="^\\s*\\$\\{.+\\}\\s*$",
            title="RuntimeExpression",
        ),
    ]


class AsyncApiMessageConsumptionPolicyUntil(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    for_: Annotated[
        DurationInline | RuntimeExpression | DurationLiteral | None,
        Field(
            alias="for",
            description="Specifies the time period over which messages will be consumed.",
            title="AsyncApiMessageConsumptionPolicyFor",
        ),
    ] = None
    until: Annotated[
        str,
        Field(
            description="A runtime expression evaluated before each consumed (filtered) message to decide if message consumption should continue.",
            pattern="^\\s*\\$\\{.+\\}\\s*$",
            title="RuntimeExpression",
        ),
    ]


class RaiseTaskConfiguration(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    error: Annotated[Error | str, Field(title="RaiseTaskError")]


class Container(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    image: Annotated[
        str, Field(description="The name of the container image to run.", title="ContainerImage")
    ]
    name: Annotated[
        str | None,
        Field(
            description="A runtime expression, if any, used to give specific name to the container.",
            title="ContainerName",
        ),
    ] = None
    command: Annotated[
        str | None,
        Field(
            description="The command, if any, to execute on the container.",
            title="ContainerCommand",
        ),
    ] = None
    ports: Annotated[
        dict[str, Any] | None,
        Field(description="The container's port mappings, if any.", title="ContainerPorts"),
    ] = None
    volumes: Annotated[
        dict[str, Any] | None,
        Field(description="The container's volume mappings, if any.", title="ContainerVolumes"),
    ] = None
    environment: Annotated[
        dict[str, Any] | None,
        Field(
            description="A key/value mapping of the environment variables, if any, to use when running the configured process.",
            title="ContainerEnvironment",
        ),
    ] = None
    stdin: Annotated[
        str | None,
        Field(
            description="A runtime expression, if any, passed as standard input (stdin) to the command or default container CMD",
            title="ContainerStdin",
        ),
    ] = None
    arguments: Annotated[
        list[str] | None,
        Field(
            description="A list of the arguments, if any, passed as argv to the command or default container CMD",
            title="ContainerArguments",
        ),
    ] = None
    lifetime: Annotated[
        ContainerLifetime | None,
        Field(
            description="An object, if any, used to configure the container's lifetime",
            title="ContainerLifetime",
        ),
    ] = None
    pullPolicy: Annotated[
        Literal["ifNotPresent", "always", "never"] | None,
        Field(
            description="Policy that controls how the container's image should be pulled from the registry. Defaults to `ifNotPresent`",
            title="ContainerPullPolicy",
        ),
    ] = None


class RunContainer(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    await_: Annotated[
        bool | None,
        Field(
            alias="await",
            description="Whether to await the process completion before continuing.",
            title="AwaitProcessCompletion",
        ),
    ] = True
    return_: Annotated[
        Literal["stdout", "stderr", "code", "all", "none"] | None,
        Field(
            alias="return",
            description="Configures the output of the process.",
            title="ProcessReturnType",
        ),
    ] = "stdout"
    container: Annotated[
        Container,
        Field(description="The configuration of the container to run.", title="Container"),
    ]


class TryTaskCatch(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    errors: Annotated[
        CatchErrors | None, Field(description="static error filter", title="CatchErrors")
    ] = None
    as_: Annotated[
        str | None,
        Field(
            alias="as",
            description="The name of the runtime expression variable to save the error as. Defaults to 'error'.",
            title="CatchAs",
        ),
    ] = None
    when: Annotated[
        str | None,
        Field(
            description="A runtime expression used to determine whether to catch the filtered error.",
            title="CatchWhen",
        ),
    ] = None
    exceptWhen: Annotated[
        str | None,
        Field(
            description="A runtime expression used to determine whether not to catch the filtered error.",
            title="CatchExceptWhen",
        ),
    ] = None
    retry: RetryPolicy | str | None = None
    do: Annotated[
        list[dict[str, dict[str, Any]]] | None,
        Field(
            description="The definition of the task(s) to run when catching an error.",
            title="TryTaskCatchDo",
        ),
    ] = None


class EndpointConfiguration(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    uri: Annotated[
        RuntimeExpression | LiteralUriTemplate | LiteralUri,
        Field(description="The endpoint's URI.", title="EndpointUri"),
    ]
    authentication: Annotated[
        AuthenticationPolicyReference
        | BasicAuthenticationPolicy
        | BearerAuthenticationPolicy
        | DigestAuthenticationPolicy
        | OAuth2AuthenticationPolicy
        | OpenIdConnectAuthenticationPolicy
        | None,
        Field(description="The authentication policy to use.", title="EndpointAuthentication"),
    ] = None


class AllEventConsumptionStrategy(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    all: Annotated[
        list[EventFilter],
        Field(
            description="A list containing all the events that must be consumed.",
            title="AllEventConsumptionStrategyConfiguration",
        ),
    ]


class OneEventConsumptionStrategy(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    one: Annotated[
        EventFilter,
        Field(
            description="The single event to consume.",
            title="OneEventConsumptionStrategyConfiguration",
        ),
    ]


class ExternalResource(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    name: Annotated[
        str | None,
        Field(
            description="The name of the external resource, if any.", title="ExternalResourceName"
        ),
    ] = None
    endpoint: Annotated[
        RuntimeExpression | EndpointConfiguration | LiteralUriTemplate | LiteralUri,
        Field(
            description="The endpoint of the external resource.", title="ExternalResourceEndpoint"
        ),
    ]


class SchemaExternal(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    format: Annotated[
        str | None,
        Field(
            description="The schema's format. Defaults to 'json'. The (optional) version of the format can be set using `{format}:{version}`.",
            title="SchemaFormat",
        ),
    ] = "json"
    resource: Annotated[
        ExternalResource,
        Field(description="The schema's external resource.", title="SchemaExternalResource"),
    ]


class Catalog(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    endpoint: Annotated[
        RuntimeExpression | EndpointConfiguration | LiteralUriTemplate | LiteralUri,
        Field(description="The root URL where the catalog is hosted.", title="CatalogEndpoint"),
    ]


class Use(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    authentications: Annotated[
        dict[
            str,
            BasicAuthenticationPolicy
            | BearerAuthenticationPolicy
            | DigestAuthenticationPolicy
            | OAuth2AuthenticationPolicy
            | OpenIdConnectAuthenticationPolicy,
        ]
        | None,
        Field(
            description="The workflow's reusable authentication policies.",
            title="UseAuthentications",
        ),
    ] = None
    errors: Annotated[
        dict[str, Error] | None,
        Field(description="The workflow's reusable errors.", title="UseErrors"),
    ] = None
    extensions: Annotated[
        list[ExtensionItem] | None,
        Field(description="The workflow's extensions.", title="UseExtensions"),
    ] = None
    functions: Annotated[
        dict[str, dict[str, Any]] | None,
        Field(description="The workflow's reusable functions.", title="UseFunctions"),
    ] = None
    retries: Annotated[
        dict[str, RetryPolicy] | None,
        Field(description="The workflow's reusable retry policies.", title="UseRetries"),
    ] = None
    secrets: Annotated[
        list[str] | None, Field(description="The workflow's reusable secrets.", title="UseSecrets")
    ] = None
    timeouts: Annotated[
        dict[str, Timeout] | None,
        Field(description="The workflow's reusable timeouts.", title="UseTimeouts"),
    ] = None
    catalogs: Annotated[
        dict[str, Catalog] | None,
        Field(description="The workflow's reusable catalogs.", title="UseCatalogs"),
    ] = None


class WithGRPCService(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    name: Annotated[
        str, Field(description="The name of the GRPC service to call.", title="WithGRPCServiceName")
    ]
    host: Annotated[
        str,
        Field(
            description="The hostname of the GRPC service to call.",
            pattern="^[a-zA-Z0-9](?:[a-zA-Z0-9-.]{0,61}[a-zA-Z0-9])?$",
            title="WithGRPCServiceHost",
        ),
    ]
    port: Annotated[
        int | None,
        Field(
            description="The port number of the GRPC service to call.",
            ge=0,
            le=65535,
            title="WithGRPCServicePort",
        ),
    ] = None
    authentication: Annotated[
        AuthenticationPolicyReference
        | BasicAuthenticationPolicy
        | BearerAuthenticationPolicy
        | DigestAuthenticationPolicy
        | OAuth2AuthenticationPolicy
        | OpenIdConnectAuthenticationPolicy
        | None,
        Field(
            description="The endpoint's authentication policy, if any.",
            title="WithGRPCServiceAuthentication",
        ),
    ] = None


class GRPCArguments(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    proto: Annotated[
        ExternalResource,
        Field(
            description="The proto resource that describes the GRPC service to call.",
            title="WithGRPCProto",
        ),
    ]
    service: Annotated[WithGRPCService, Field(title="WithGRPCService")]
    method: Annotated[
        str,
        Field(
            description="The name of the method to call on the defined GRPC service.",
            title="WithGRPCMethod",
        ),
    ]
    arguments: Annotated[
        dict[str, Any] | None,
        Field(
            description="The arguments, if any, to call the method with.", title="WithGRPCArguments"
        ),
    ] = None


class HTTPArguments(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    method: Annotated[
        str,
        Field(description="The HTTP method of the HTTP request to perform.", title="HTTPMethod"),
    ]
    endpoint: Annotated[
        RuntimeExpression | EndpointConfiguration | LiteralUriTemplate | LiteralUri,
        Field(description="The HTTP endpoint to send the request to.", title="HTTPEndpoint"),
    ]
    headers: Annotated[
        dict[str, str] | RuntimeExpression | None,
        Field(
            description="A name/value mapping of the headers, if any, of the HTTP request to perform.",
            title="HTTPHeaders",
        ),
    ] = None
    body: Annotated[
        Any | None,
        Field(description="The body, if any, of the HTTP request to perform.", title="HTTPBody"),
    ] = None
    query: Annotated[
        dict[str, str] | RuntimeExpression | None,
        Field(
            description="A name/value mapping of the query parameters, if any, of the HTTP request to perform.",
            title="HTTPQuery",
        ),
    ] = None
    output: Annotated[
        Literal["raw", "content", "response"] | None,
        Field(
            description="The http call output format. Defaults to 'content'.", title="HTTPOutput"
        ),
    ] = None
    redirect: Annotated[
        bool | None,
        Field(
            description="Specifies whether redirection status codes (`300–399`) should be treated as errors.",
            title="HttpRedirect",
        ),
    ] = None


class OpenAPIArguments(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    document: Annotated[
        ExternalResource,
        Field(
            description="The document that defines the OpenAPI operation to call.",
            title="WithOpenAPIDocument",
        ),
    ]
    operationId: Annotated[
        str,
        Field(description="The id of the OpenAPI operation to call.", title="WithOpenAPIOperation"),
    ]
    parameters: Annotated[
        dict[str, Any] | None,
        Field(
            description="A name/value mapping of the parameters of the OpenAPI operation to call.",
            title="WithOpenAPIParameters",
        ),
    ] = None
    authentication: Annotated[
        AuthenticationPolicyReference
        | BasicAuthenticationPolicy
        | BearerAuthenticationPolicy
        | DigestAuthenticationPolicy
        | OAuth2AuthenticationPolicy
        | OpenIdConnectAuthenticationPolicy
        | None,
        Field(
            description="The authentication policy, if any, to use when calling the OpenAPI operation.",
            title="WithOpenAPIAuthentication",
        ),
    ] = None
    output: Annotated[
        Literal["raw", "content", "response"] | None,
        Field(
            description="The http call output format. Defaults to 'content'.",
            title="WithOpenAPIOutput",
        ),
    ] = None
    redirect: Annotated[
        bool | None,
        Field(
            description="Specifies whether redirection status codes (`300–399`) should be treated as errors.",
            title="HttpRedirect",
        ),
    ] = None


class A2AArguments(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    agentCard: Annotated[
        ExternalResource | None,
        Field(
            description="The Agent Card that defines the agent to call.", title="WithA2AAgentCard"
        ),
    ] = None
    server: Annotated[
        RuntimeExpression | EndpointConfiguration | LiteralUriTemplate | LiteralUri | None,
        Field(description="The server endpoint to send the request to.", title="A2AServer"),
    ] = None
    method: Annotated[
        Literal[
            "message/send",
            "message/stream",
            "tasks/get",
            "tasks/list",
            "tasks/cancel",
            "tasks/resubscribe",
            "tasks/pushNotificationConfig/set",
            "tasks/pushNotificationConfig/get",
            "tasks/pushNotificationConfig/list",
            "tasks/pushNotificationConfig/delete",
            "agent/getAuthenticatedExtendedCard",
        ],
        Field(description="The A2A method to send.", title="WithA2AMethod"),
    ]
    parameters: Annotated[
        dict[str, Any] | str | None,
        Field(
            description="The parameters object to send with the A2A method.",
            title="WithA2AParameters",
        ),
    ] = None


class McpHttpTransport(BaseModel):
    endpoint: Annotated[
        RuntimeExpression | EndpointConfiguration | LiteralUriTemplate | LiteralUri,
        Field(
            description="The MCP server endpoint to connect to.", title="McpHttpTransportEndpoint"
        ),
    ]
    headers: Annotated[
        dict[str, str] | None,
        Field(
            description="A key/value mapping of the HTTP headers to send with requests, if any.",
            title="McpHttpTransportHeaders",
        ),
    ] = None


class McpCallTransport1(BaseModel):
    http: Annotated[
        McpHttpTransport,
        Field(description="The definition of the HTTP transport to use.", title="McpHttpTransport"),
    ]
    stdio: Annotated[
        McpStdioTransport | None,
        Field(
            description="The definition of the STDIO transport to use.", title="McpStdioTransport"
        ),
    ] = None
    options: dict[str, str] | None = None


class McpHttpTransport1(BaseModel):
    endpoint: Annotated[
        RuntimeExpression | EndpointConfiguration | LiteralUriTemplate | LiteralUri,
        Field(
            description="The MCP server endpoint to connect to.", title="McpHttpTransportEndpoint"
        ),
    ]
    headers: Annotated[
        dict[str, str] | None,
        Field(
            description="A key/value mapping of the HTTP headers to send with requests, if any.",
            title="McpHttpTransportHeaders",
        ),
    ] = None


class McpCallTransport2(BaseModel):
    http: Annotated[
        McpHttpTransport1 | None,
        Field(description="The definition of the HTTP transport to use.", title="McpHttpTransport"),
    ] = None
    stdio: Annotated[
        McpStdioTransport1,
        Field(
            description="The definition of the STDIO transport to use.", title="McpStdioTransport"
        ),
    ]
    options: dict[str, str] | None = None


class MCPArguments(BaseModel):
    protocolVersion: Annotated[
        str | None,
        Field(description="The version of the MCP protocol to use.", title="McpProtocolVersion"),
    ] = "2025-06-18"
    method: Annotated[
        Literal[
            "tools/list",
            "tools/call",
            "prompts/list",
            "prompts/get",
            "resources/list",
            "resources/read",
            "resources/templates/list",
        ],
        Field(description="The MCP method to call.", title="McpMethod"),
    ]
    parameters: Annotated[
        dict[str, Any] | str | None,
        Field(description="The MCP method parameters.", title="McpMethodParameters"),
    ] = None
    timeout: Annotated[
        DurationInline | RuntimeExpression | DurationLiteral | None,
        Field(
            description="The duration after which the MCP call times out.", title="McpCallTimeout"
        ),
    ] = None
    transport: Annotated[
        McpCallTransport1 | McpCallTransport2,
        Field(
            description="The transport to use to perform the MCP call.", title="McpCallTransport"
        ),
    ]
    client: Annotated[
        McpClient | None,
        Field(description="Describes the client used to perform the MCP call.", title="McpClient"),
    ] = None


class ExternalScript(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    language: Annotated[
        str, Field(description="The language of the script to run.", title="ScriptLanguage")
    ]
    stdin: Annotated[
        str | None,
        Field(
            description="A runtime expression, if any, to the script as standard input (stdin).",
            title="ScriptStdin",
        ),
    ] = None
    arguments: Annotated[
        list[str] | None,
        Field(
            description="A list of the arguments, if any, to the script as argv",
            title="ScriptArguments",
        ),
    ] = None
    environment: Annotated[
        dict[str, Any] | None,
        Field(
            description="A key/value mapping of the environment variables, if any, to use when running the configured script process.",
            title="ScriptEnvironment",
        ),
    ] = None
    source: Annotated[ExternalResource, Field(title="ExternalScriptResource")]


class RunScript(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    await_: Annotated[
        bool | None,
        Field(
            alias="await",
            description="Whether to await the process completion before continuing.",
            title="AwaitProcessCompletion",
        ),
    ] = True
    return_: Annotated[
        Literal["stdout", "stderr", "code", "all", "none"] | None,
        Field(
            alias="return",
            description="Configures the output of the process.",
            title="ProcessReturnType",
        ),
    ] = "stdout"
    script: Annotated[
        InlineScript | ExternalScript,
        Field(description="The configuration of the script to run.", title="Script"),
    ]


class Input(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    schema_: Annotated[
        SchemaInline | SchemaExternal | None,
        Field(
            alias="schema",
            description="The schema used to describe and validate the input of the workflow or task.",
            title="InputSchema",
        ),
    ] = None
    from_: Annotated[
        str | dict[str, Any] | None,
        Field(
            alias="from",
            description="A runtime expression, if any, used to mutate and/or filter the input of the workflow or task.",
            title="InputFrom",
        ),
    ] = None


class Output(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    schema_: Annotated[
        SchemaInline | SchemaExternal | None,
        Field(
            alias="schema",
            description="The schema used to describe and validate the output of the workflow or task.",
            title="OutputSchema",
        ),
    ] = None
    as_: Annotated[
        str | dict[str, Any] | None,
        Field(
            alias="as",
            description="A runtime expression, if any, used to mutate and/or filter the output of the workflow or task.",
            title="OutputAs",
        ),
    ] = None


class Export(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    schema_: Annotated[
        SchemaInline | SchemaExternal | None,
        Field(
            alias="schema",
            description="The schema used to describe and validate the workflow context.",
            title="ExportSchema",
        ),
    ] = None
    as_: Annotated[
        str | dict[str, Any] | None,
        Field(
            alias="as",
            description="A runtime expression, if any, used to export the output data to the context.",
            title="ExportAs",
        ),
    ] = None


class SubscriptionIterator(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    item: Annotated[
        str | None,
        Field(
            description="The name of the variable used to store the current item being enumerated.",
            title="SubscriptionIteratorItem",
        ),
    ] = "item"
    at: Annotated[
        str | None,
        Field(
            description="The name of the variable used to store the index of the current item being enumerated.",
            title="SubscriptionIteratorIndex",
        ),
    ] = "index"
    do: Annotated[
        list[dict[str, dict[str, Any]]] | None,
        Field(
            description="The tasks to perform for each consumed item.",
            title="SubscriptionIteratorTasks",
        ),
    ] = None
    output: Annotated[
        Output | None,
        Field(
            description="An object, if any, used to customize the item's output and to document its schema.",
            title="SubscriptionIteratorOutput",
        ),
    ] = None
    export: Annotated[
        Export | None,
        Field(
            description="An object, if any, used to customize the content of the workflow context.",
            title="SubscriptionIteratorExport",
        ),
    ] = None


class TaskBase(BaseModel):
    if_: Annotated[
        str | None,
        Field(
            alias="if",
            description="A runtime expression, if any, used to determine whether or not the task should be run.",
            title="TaskBaseIf",
        ),
    ] = None
    input: Annotated[
        Input | None, Field(description="Configure the task's input.", title="TaskBaseInput")
    ] = None
    output: Annotated[
        Output | None, Field(description="Configure the task's output.", title="TaskBaseOutput")
    ] = None
    export: Annotated[
        Export | None, Field(description="Export task output to context.", title="TaskBaseExport")
    ] = None
    timeout: Annotated[Timeout | str | None, Field(title="TaskTimeout")] = None
    then: Annotated[
        str | Literal["continue", "exit", "end"] | None,
        Field(
            description="The flow directive to be performed upon completion of the task.",
            title="TaskBaseThen",
        ),
    ] = None
    metadata: Annotated[
        dict[str, Any] | None,
        Field(description="Holds additional information about the task.", title="TaskMetadata"),
    ] = None


class CallGRPC(TaskBase):
    model_config = ConfigDict(
        extra="forbid",
    )
    call: Literal["grpc"]
    with_: Annotated[
        GRPCArguments,
        Field(alias="with", description="The GRPC call arguments.", title="GRPCArguments"),
    ]


class CallHTTP(TaskBase):
    model_config = ConfigDict(
        extra="forbid",
    )
    call: Literal["http"]
    with_: Annotated[
        HTTPArguments,
        Field(alias="with", description="The HTTP call arguments.", title="HTTPArguments"),
    ]


class CallOpenAPI(TaskBase):
    model_config = ConfigDict(
        extra="forbid",
    )
    call: Literal["openapi"]
    with_: Annotated[
        OpenAPIArguments,
        Field(alias="with", description="The OpenAPI call arguments.", title="OpenAPIArguments"),
    ]


class CallA2A(TaskBase):
    model_config = ConfigDict(
        extra="forbid",
    )
    call: Literal["a2a"]
    with_: Annotated[
        A2AArguments,
        Field(alias="with", description="The A2A call arguments.", title="A2AArguments"),
    ]


class CallMCP(TaskBase):
    model_config = ConfigDict(
        extra="forbid",
    )
    call: Literal["mcp"]
    with_: Annotated[
        MCPArguments,
        Field(alias="with", description="The MCP call arguments.", title="MCPArguments"),
    ]


class CallFunction(TaskBase):
    model_config = ConfigDict(
        extra="forbid",
    )
    call: Annotated[str, Field(description="The name of the function to call.")]
    with_: Annotated[
        dict[str, Any] | None,
        Field(
            alias="with",
            description="A name/value mapping of the parameters, if any, to call the function with.",
            title="FunctionArguments",
        ),
    ] = None


class ForkTask(TaskBase):
    model_config = ConfigDict(
        extra="forbid",
    )
    fork: Annotated[
        ForkTaskConfiguration,
        Field(
            description="The configuration of the branches to perform concurrently.",
            title="ForkTaskConfiguration",
        ),
    ]


class DoTask(TaskBase):
    model_config = ConfigDict(
        extra="forbid",
    )
    do: Annotated[
        list[dict[str, dict[str, Any]]],
        Field(
            description="The configuration of the tasks to perform sequentially.",
            title="DoTaskConfiguration",
        ),
    ]


class EmitTask(TaskBase):
    model_config = ConfigDict(
        extra="forbid",
    )
    emit: Annotated[
        EmitTaskConfiguration,
        Field(
            description="The configuration of an event's emission.", title="EmitTaskConfiguration"
        ),
    ]


class ForTask(TaskBase):
    model_config = ConfigDict(
        extra="forbid",
    )
    for_: Annotated[
        ForTaskConfiguration,
        Field(
            alias="for",
            description="The definition of the loop that iterates over a range of values.",
            title="ForTaskConfiguration",
        ),
    ]
    while_: Annotated[
        str | None,
        Field(
            alias="while",
            description="A runtime expression that represents the condition, if any, that must be met for the iteration to continue.",
            title="While",
        ),
    ] = None
    do: Annotated[list[dict[str, dict[str, Any]]], Field(title="ForTaskDo")]


class RaiseTask(TaskBase):
    model_config = ConfigDict(
        extra="forbid",
    )
    raise_: Annotated[
        RaiseTaskConfiguration,
        Field(
            alias="raise",
            description="The definition of the error to raise.",
            title="RaiseTaskConfiguration",
        ),
    ]


class RunTask(TaskBase):
    model_config = ConfigDict(
        extra="forbid",
    )
    run: Annotated[
        RunContainer | RunScript | RunShell | RunWorkflow,
        Field(
            description="The configuration of the process to execute.", title="RunTaskConfiguration"
        ),
    ]


class SetTask(TaskBase):
    model_config = ConfigDict(
        extra="forbid",
    )
    set: Annotated[
        dict[str, Any] | str, Field(description="The data to set.", title="SetTaskConfiguration")
    ]


class SwitchTask(TaskBase):
    model_config = ConfigDict(
        extra="forbid",
    )
    switch: Annotated[
        list[SwitchItem],
        Field(
            description="The definition of the switch to use.",
            min_length=1,
            title="SwitchTaskConfiguration",
        ),
    ]


class TryTask(TaskBase):
    model_config = ConfigDict(
        extra="forbid",
    )
    try_: Annotated[
        list[dict[str, dict[str, Any]]],
        Field(alias="try", description="The task(s) to perform.", title="TryTaskConfiguration"),
    ]
    catch: Annotated[
        TryTaskCatch,
        Field(description="The object used to define the errors to catch.", title="TryTaskCatch"),
    ]


class WaitTask(TaskBase):
    model_config = ConfigDict(
        extra="forbid",
    )
    wait: Annotated[
        DurationInline | RuntimeExpression | DurationLiteral,
        Field(description="The amount of time to wait.", title="WaitTaskConfiguration"),
    ]


class AsyncApiSubscription(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    filter: Annotated[
        str | None,
        Field(
            description="A runtime expression, if any, used to filter consumed messages.",
            pattern="^\\s*\\$\\{.+\\}\\s*$",
            title="AsyncApiSubscriptionCorrelation",
        ),
    ] = None
    consume: Annotated[
        AsyncApiMessageConsumptionPolicyAmount
        | AsyncApiMessageConsumptionPolicyWhile
        | AsyncApiMessageConsumptionPolicyUntil,
        Field(
            description="An object used to configure the subscription's message consumption policy.",
            title="AsyncApiMessageConsumptionPolicy",
        ),
    ]
    foreach: Annotated[
        SubscriptionIterator | None,
        Field(
            description="Configures the iterator, if any, for processing consumed messages(s).",
            title="AsyncApiSubscriptionIterator",
        ),
    ] = None


class AsyncApiArguments1(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    document: Annotated[
        ExternalResource,
        Field(
            description="The document that defines the AsyncAPI operation to call.",
            title="AsyncAPIDocument",
        ),
    ]
    channel: Annotated[
        str | None,
        Field(
            description="The name of the channel on which to perform the operation. Used only in case the referenced document uses AsyncAPI v2.6.0.",
            title="With",
        ),
    ] = None
    operation: Annotated[
        str,
        Field(
            description="A reference to the AsyncAPI operation to call.", title="AsyncAPIOperation"
        ),
    ]
    server: Annotated[
        AsyncApiServer | None,
        Field(
            description="An object used to configure to the server to call the specified AsyncAPI operation on.",
            title="AsyncAPIServer",
        ),
    ] = None
    protocol: Annotated[
        Literal[
            "amqp",
            "amqp1",
            "anypointmq",
            "googlepubsub",
            "http",
            "ibmmq",
            "jms",
            "kafka",
            "mercure",
            "mqtt",
            "mqtt5",
            "nats",
            "pulsar",
            "redis",
            "sns",
            "solace",
            "sqs",
            "stomp",
            "ws",
        ]
        | None,
        Field(
            description="The protocol to use to select the target server.", title="AsyncApiProtocol"
        ),
    ] = None
    message: Annotated[
        AsyncApiOutboundMessage,
        Field(
            description="An object used to configure the message to publish using the target operation.",
            title="AsyncApiMessage",
        ),
    ]
    subscription: Annotated[
        AsyncApiSubscription | None,
        Field(
            description="An object used to configure the subscription to messages consumed using the target operation.",
            title="AsyncApiSubscription",
        ),
    ] = None
    authentication: Annotated[
        AuthenticationPolicyReference
        | BasicAuthenticationPolicy
        | BearerAuthenticationPolicy
        | DigestAuthenticationPolicy
        | OAuth2AuthenticationPolicy
        | OpenIdConnectAuthenticationPolicy
        | None,
        Field(
            description="The authentication policy, if any, to use when calling the AsyncAPI operation.",
            title="AsyncAPIAuthentication",
        ),
    ] = None


class AsyncApiArguments2(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    document: Annotated[
        ExternalResource,
        Field(
            description="The document that defines the AsyncAPI operation to call.",
            title="AsyncAPIDocument",
        ),
    ]
    channel: Annotated[
        str | None,
        Field(
            description="The name of the channel on which to perform the operation. Used only in case the referenced document uses AsyncAPI v2.6.0.",
            title="With",
        ),
    ] = None
    operation: Annotated[
        str,
        Field(
            description="A reference to the AsyncAPI operation to call.", title="AsyncAPIOperation"
        ),
    ]
    server: Annotated[
        AsyncApiServer | None,
        Field(
            description="An object used to configure to the server to call the specified AsyncAPI operation on.",
            title="AsyncAPIServer",
        ),
    ] = None
    protocol: Annotated[
        Literal[
            "amqp",
            "amqp1",
            "anypointmq",
            "googlepubsub",
            "http",
            "ibmmq",
            "jms",
            "kafka",
            "mercure",
            "mqtt",
            "mqtt5",
            "nats",
            "pulsar",
            "redis",
            "sns",
            "solace",
            "sqs",
            "stomp",
            "ws",
        ]
        | None,
        Field(
            description="The protocol to use to select the target server.", title="AsyncApiProtocol"
        ),
    ] = None
    message: Annotated[
        AsyncApiOutboundMessage | None,
        Field(
            description="An object used to configure the message to publish using the target operation.",
            title="AsyncApiMessage",
        ),
    ] = None
    subscription: Annotated[
        AsyncApiSubscription,
        Field(
            description="An object used to configure the subscription to messages consumed using the target operation.",
            title="AsyncApiSubscription",
        ),
    ]
    authentication: Annotated[
        AuthenticationPolicyReference
        | BasicAuthenticationPolicy
        | BearerAuthenticationPolicy
        | DigestAuthenticationPolicy
        | OAuth2AuthenticationPolicy
        | OpenIdConnectAuthenticationPolicy
        | None,
        Field(
            description="The authentication policy, if any, to use when calling the AsyncAPI operation.",
            title="AsyncAPIAuthentication",
        ),
    ] = None


class AsyncApiArguments3(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    document: Annotated[
        ExternalResource,
        Field(
            description="The document that defines the AsyncAPI operation to call.",
            title="AsyncAPIDocument",
        ),
    ]
    channel: Annotated[
        str,
        Field(
            description="The name of the channel on which to perform the operation. Used only in case the referenced document uses AsyncAPI v2.6.0.",
            title="With",
        ),
    ]
    operation: Annotated[
        str | None,
        Field(
            description="A reference to the AsyncAPI operation to call.", title="AsyncAPIOperation"
        ),
    ] = None
    server: Annotated[
        AsyncApiServer | None,
        Field(
            description="An object used to configure to the server to call the specified AsyncAPI operation on.",
            title="AsyncAPIServer",
        ),
    ] = None
    protocol: Annotated[
        Literal[
            "amqp",
            "amqp1",
            "anypointmq",
            "googlepubsub",
            "http",
            "ibmmq",
            "jms",
            "kafka",
            "mercure",
            "mqtt",
            "mqtt5",
            "nats",
            "pulsar",
            "redis",
            "sns",
            "solace",
            "sqs",
            "stomp",
            "ws",
        ]
        | None,
        Field(
            description="The protocol to use to select the target server.", title="AsyncApiProtocol"
        ),
    ] = None
    message: Annotated[
        AsyncApiOutboundMessage,
        Field(
            description="An object used to configure the message to publish using the target operation.",
            title="AsyncApiMessage",
        ),
    ]
    subscription: Annotated[
        AsyncApiSubscription | None,
        Field(
            description="An object used to configure the subscription to messages consumed using the target operation.",
            title="AsyncApiSubscription",
        ),
    ] = None
    authentication: Annotated[
        AuthenticationPolicyReference
        | BasicAuthenticationPolicy
        | BearerAuthenticationPolicy
        | DigestAuthenticationPolicy
        | OAuth2AuthenticationPolicy
        | OpenIdConnectAuthenticationPolicy
        | None,
        Field(
            description="The authentication policy, if any, to use when calling the AsyncAPI operation.",
            title="AsyncAPIAuthentication",
        ),
    ] = None


class AsyncApiArguments4(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    document: Annotated[
        ExternalResource,
        Field(
            description="The document that defines the AsyncAPI operation to call.",
            title="AsyncAPIDocument",
        ),
    ]
    channel: Annotated[
        str,
        Field(
            description="The name of the channel on which to perform the operation. Used only in case the referenced document uses AsyncAPI v2.6.0.",
            title="With",
        ),
    ]
    operation: Annotated[
        str | None,
        Field(
            description="A reference to the AsyncAPI operation to call.", title="AsyncAPIOperation"
        ),
    ] = None
    server: Annotated[
        AsyncApiServer | None,
        Field(
            description="An object used to configure to the server to call the specified AsyncAPI operation on.",
            title="AsyncAPIServer",
        ),
    ] = None
    protocol: Annotated[
        Literal[
            "amqp",
            "amqp1",
            "anypointmq",
            "googlepubsub",
            "http",
            "ibmmq",
            "jms",
            "kafka",
            "mercure",
            "mqtt",
            "mqtt5",
            "nats",
            "pulsar",
            "redis",
            "sns",
            "solace",
            "sqs",
            "stomp",
            "ws",
        ]
        | None,
        Field(
            description="The protocol to use to select the target server.", title="AsyncApiProtocol"
        ),
    ] = None
    message: Annotated[
        AsyncApiOutboundMessage | None,
        Field(
            description="An object used to configure the message to publish using the target operation.",
            title="AsyncApiMessage",
        ),
    ] = None
    subscription: Annotated[
        AsyncApiSubscription,
        Field(
            description="An object used to configure the subscription to messages consumed using the target operation.",
            title="AsyncApiSubscription",
        ),
    ]
    authentication: Annotated[
        AuthenticationPolicyReference
        | BasicAuthenticationPolicy
        | BearerAuthenticationPolicy
        | DigestAuthenticationPolicy
        | OAuth2AuthenticationPolicy
        | OpenIdConnectAuthenticationPolicy
        | None,
        Field(
            description="The authentication policy, if any, to use when calling the AsyncAPI operation.",
            title="AsyncAPIAuthentication",
        ),
    ] = None


class CallAsyncAPI(TaskBase):
    model_config = ConfigDict(
        extra="forbid",
    )
    call: Literal["asyncapi"]
    with_: Annotated[
        AsyncApiArguments1 | AsyncApiArguments2 | AsyncApiArguments3 | AsyncApiArguments4,
        Field(alias="with", description="The Async API call arguments.", title="AsyncApiArguments"),
    ]


CallTask = TypeAliasType(
    "CallTask",
    Annotated[
        CallAsyncAPI | CallGRPC | CallHTTP | CallOpenAPI | CallA2A | CallMCP | CallFunction,
        Field(description="Defines the call to perform.", title="CallTask"),
    ],
)


class Schedule(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    every: Annotated[
        DurationInline | RuntimeExpression | DurationLiteral | None,
        Field(
            description="Specifies the duration of the interval at which the workflow should be executed.",
            title="ScheduleEvery",
        ),
    ] = None
    cron: Annotated[
        str | None,
        Field(
            description="Specifies the schedule using a cron expression, e.g., '0 0 * * *' for daily at midnight.",
            title="ScheduleCron",
        ),
    ] = None
    after: Annotated[
        DurationInline | RuntimeExpression | DurationLiteral | None,
        Field(
            description="Specifies a delay duration that the workflow must wait before starting again after it completes.",
            title="ScheduleAfter",
        ),
    ] = None
    on: Annotated[
        AllEventConsumptionStrategy
        | AnyEventConsumptionStrategy
        | OneEventConsumptionStrategy
        | None,
        Field(
            description="Specifies the events that trigger the workflow execution.",
            title="ScheduleOn",
        ),
    ] = None


class Workflow(BaseModel):
    document: Annotated[Document, Field(description="Documents the workflow.", title="Document")]
    input: Annotated[
        Input | None, Field(description="Configures the workflow's input.", title="Input")
    ] = None
    use: Annotated[
        Use | None, Field(description="Defines the workflow's reusable components.", title="Use")
    ] = None
    do: Annotated[
        list[dict[str, dict[str, Any]]],
        Field(description="Defines the task(s) the workflow must perform.", title="Do"),
    ]
    timeout: Annotated[Timeout | str | None, Field(title="DoTimeout")] = None
    output: Annotated[
        Output | None, Field(description="Configures the workflow's output.", title="Output")
    ] = None
    schedule: Annotated[
        Schedule | None, Field(description="Schedules the workflow.", title="Schedule")
    ] = None


class ListenTaskConfiguration(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    to: Annotated[
        AllEventConsumptionStrategy | AnyEventConsumptionStrategy | OneEventConsumptionStrategy,
        Field(description="Defines the event(s) to listen to.", title="ListenTo"),
    ]
    read: Annotated[
        Literal["data", "envelope", "raw"] | None,
        Field(
            description="Specifies how events are read during the listen operation.",
            title="ListenAndReadAs",
        ),
    ] = "data"


class ListenTask(TaskBase):
    model_config = ConfigDict(
        extra="forbid",
    )
    listen: Annotated[
        ListenTaskConfiguration,
        Field(
            description="The configuration of the listener to use.", title="ListenTaskConfiguration"
        ),
    ]
    foreach: Annotated[
        SubscriptionIterator | None,
        Field(
            description="Configures the iterator, if any, for processing consumed event(s).",
            title="ListenIterator",
        ),
    ] = None


class AnyEventConsumptionStrategy(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    any: Annotated[
        list[EventFilter],
        Field(
            description="A list containing any of the events to consume.",
            title="AnyEventConsumptionStrategyConfiguration",
        ),
    ]
    until: (
        str
        | AllEventConsumptionStrategy
        | AnyEventConsumptionStrategy
        | OneEventConsumptionStrategy
        | None
    ) = None


Schedule.model_rebuild()
ListenTaskConfiguration.model_rebuild()
AnyEventConsumptionStrategy.model_rebuild()
