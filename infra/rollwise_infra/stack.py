"""One stack: the summaries job (nightly) and the merge job (every 5 minutes), least privilege.

Every role is written out by hand: inline statements naming only the actions
each job's code calls, on only its resources. No managed policy is attached
(AWSLambdaBasicExecutionRole grants logs on every log group).
"""

from __future__ import annotations

from typing import cast

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Size, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from rollwise.config import environment
from rollwise.handlers import API_HANDLER, INGEST_HANDLER, RUNS_HANDLER, RUNS_SERVICE, SUMMARIES_HANDLER
from rollwise.handlers.common import HandlerSettings
from rollwise.lambda_limits import TIMEOUT_SECONDS
from rollwise.runs.capacity import SCHEDULE_MINUTES
from rollwise.runs.settings import MergeSettings
from rollwise.runs.tables import RECORD_COLUMNS, WINDOW_COLUMNS
from rollwise.summaries.capacity import SUMMARIES_MEMORY_MB
from rollwise.summaries.settings import IngestSettings, SummariesSettings
from rollwise_infra.config import StackConfig
from rollwise_infra.runtime import PYTHON

METRICS_NAMESPACE = HandlerSettings().metrics_namespace
TIMEOUT = Duration.seconds(TIMEOUT_SECONDS)
# Every hour: each zone's day is aggregated by the first run delay_hours after it ends (02:00 for UTC tenants).
SUMMARIES_SCHEDULE = "cron(0 * * * ? *)"
MERGE_SCHEDULE = f"rate({SCHEDULE_MINUTES} minutes)"


def _architecture(name: str) -> lambda_.Architecture:
    return lambda_.Architecture.ARM_64 if name == "arm64" else lambda_.Architecture.X86_64


def table_keys() -> tuple[list[tuple[str, str]], dict[str, tuple[str, str]]]:
    """The summaries store's own key layout, so the created table is exactly what the code needs."""
    from rollwise.summaries.stores.dynamodb_layout import INDEXES

    return [("PK", "S"), ("SK", "S")], INDEXES


def role_of(fn: lambda_.Function) -> iam.IRole:
    """The role CDK made for ``fn``: each function here has its own, and its statements are added to it."""
    if fn.role is None:
        raise ValueError(f"function {fn.node.id} has no role")
    return fn.role


class RollwiseStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, config: StackConfig, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        arch = _architecture(config.architecture)
        code = lambda_.Code.from_asset(str(config.asset_path))

        self.table = self._table()
        self.bucket = self._bucket()
        self.alarm_topic = sns.Topic(self, "AlarmTopic", display_name="rollwise alarms", enforce_ssl=True)
        if config.alarm_email:
            self.alarm_topic.add_subscription(subs.EmailSubscription(config.alarm_email))
        self.results_topic = sns.Topic(self, "ResultsTopic", display_name="rollwise run results", enforce_ssl=True)

        common_env = {
            **environment(HandlerSettings, metrics_namespace=METRICS_NAMESPACE, notify_topic_arn=self.results_topic.topic_arn),
            "POWERTOOLS_LOG_LEVEL": "INFO",  # Powertools' own setting
        }
        self.summaries_fn = self._function(
            "AggregateSummaries",
            handler=SUMMARIES_HANDLER,
            memory=SUMMARIES_MEMORY_MB,
            code=code,
            arch=arch,
            env={**common_env, **self._summaries_env()},
            # The fan-out runs shards side by side; without it, one run at a time.
            reserved=config.reserved_concurrency or None,
        )
        self.merge_fn = self._function(
            "MergeRuns",
            handler=RUNS_HANDLER,
            memory=config.merge_memory_mb,
            ephemeral_mb=512,
            code=code,
            arch=arch,
            env={
                **common_env,
                **environment(
                    MergeSettings,
                    bucket=self.bucket.bucket_name,
                    root=config.runs_root,
                    raw_prefix=config.raw_prefix or None,
                    archive_mode=config.archive_mode,
                    records_output=None if config.records_output else False,
                ),
                # glibc's: few malloc arenas, or the job's I/O threads each get one, in 128 MB.
                "MALLOC_ARENA_MAX": "2",
            },
            reserved=config.reserved_concurrency or None,
        )
        self._summaries_permissions(self.summaries_fn)
        self._merge_permissions(self.merge_fn)
        self.ingest_fn = self._ingest(code, arch, common_env) if config.source_stream_arn else None
        if config.sql_tables and config.records_output:
            self._sql_tables()

        self.state_machine: sfn.StateMachine | None = None
        if config.summary_fanout:
            self.state_machine = self._fanout()
            target: events.IRuleTarget = targets.SfnStateMachine(self.state_machine)
        else:
            target = targets.LambdaFunction(self.summaries_fn, retry_attempts=2)
        events.Rule(
            self,
            "HourlySummaries",
            description="rollwise: period summaries, every hour: each zone's days once they are due",
            schedule=events.Schedule.expression(SUMMARIES_SCHEDULE),
            targets=[target],
        )
        events.Rule(
            self,
            "MergeEveryFiveMinutes",
            description="rollwise: merge and archive run files",
            schedule=events.Schedule.expression(MERGE_SCHEDULE),
            targets=[targets.LambdaFunction(self.merge_fn, retry_attempts=0)],
        )
        self._alarms()
        if config.api:
            api_code = code if config.api_asset_path == config.asset_path else lambda_.Code.from_asset(str(config.api_asset_path))
            self._api(api_code, _architecture(config.api_architecture), common_env)

        CfnOutput(self, "TableName", value=self.table.table_name)
        CfnOutput(self, "BucketName", value=self.bucket.bucket_name)
        CfnOutput(self, "SummariesFunction", value=self.summaries_fn.function_name)
        CfnOutput(self, "MergeFunction", value=self.merge_fn.function_name)
        if self.ingest_fn is not None:
            CfnOutput(self, "IngestFunction", value=self.ingest_fn.function_name)
            CfnOutput(self, "IngestFailuresQueueUrl", value=self.ingest_failures.queue_url)
        CfnOutput(self, "AlarmTopicArn", value=self.alarm_topic.topic_arn)
        CfnOutput(self, "ResultsTopicArn", value=self.results_topic.topic_arn)

    def _summaries_env(self) -> dict[str, str]:
        config = self.config
        # Set only when not the job's default: the functions' defaults are the settings class's.
        chosen = {
            name: getattr(config, name)
            for name in ("default_zone", "delay_hours", "record_retention_days", "sdk_summaries_table")
            if getattr(config, name) != getattr(SummariesSettings, name)
        }
        return environment(SummariesSettings, table=self.table.table_name, shards=config.summary_shards, **chosen)

    # -- storage ------------------------------------------------------------------
    def _table(self) -> ddb.ITable:
        if self.config.table_name:
            return ddb.Table.from_table_name(self, "Table", self.config.table_name)
        from rollwise.summaries.stores.dynamodb_layout import TTL_ATTRIBUTE

        base, indexes = table_keys()
        table = ddb.Table(
            self,
            "Table",
            partition_key=ddb.Attribute(name=base[0][0], type=ddb.AttributeType.STRING),
            sort_key=ddb.Attribute(name=base[1][0], type=ddb.AttributeType.STRING),
            billing_mode=ddb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=ddb.PointInTimeRecoverySpecification(point_in_time_recovery_enabled=True),
            removal_policy=RemovalPolicy.RETAIN,
            # Records and locators carry their expiry there when ROLLWISE_RECORD_RETENTION_DAYS is set; summaries never do.
            time_to_live_attribute=TTL_ATTRIBUTE,
        )
        for name, (pk, sk) in indexes.items():
            table.add_global_secondary_index(
                index_name=name,
                partition_key=ddb.Attribute(name=pk, type=ddb.AttributeType.STRING),
                sort_key=ddb.Attribute(name=sk, type=ddb.AttributeType.STRING),
                projection_type=ddb.ProjectionType.ALL,
            )
        return table

    def _bucket(self) -> s3.IBucket:
        if self.config.bucket_name:
            return s3.Bucket.from_bucket_name(self, "Bucket", self.config.bucket_name)
        return s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            removal_policy=RemovalPolicy.RETAIN,
        )

    # -- functions -----------------------------------------------------------------
    def _function(
        self,
        name: str,
        handler: str,
        memory: int,
        code: lambda_.Code,
        arch: lambda_.Architecture,
        env: dict[str, str],
        reserved: int | None,
        ephemeral_mb: int | None = None,
    ) -> lambda_.Function:
        log_group = logs.LogGroup(self, f"{name}Logs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY)
        role = iam.Role(
            self, f"{name}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description=f"rollwise {name}: only what its code calls"
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteItsOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            )
        )
        role.add_to_policy(iam.PolicyStatement(sid="PublishRunResults", actions=["sns:Publish"], resources=[self.results_topic.topic_arn]))
        fn = lambda_.Function(
            self,
            name,
            runtime=lambda_.Runtime(f"python{PYTHON}", lambda_.RuntimeFamily.PYTHON),
            architecture=arch,
            handler=handler,
            code=code,
            memory_size=memory,
            timeout=TIMEOUT,
            ephemeral_storage_size=Size.mebibytes(ephemeral_mb) if ephemeral_mb else None,
            environment=env,
            role=role,
            log_group=log_group,
            reserved_concurrent_executions=reserved,
        )
        return fn

    def _summaries_permissions(self, fn: lambda_.Function) -> None:
        """The job reads a day's records, markers and summaries (Query on the base table); it writes
        only summaries (in batches), its group leases, and deletes leases and consumed markers: each
        write narrowed to its items' partition keys, taken from the store's own key layout."""
        from rollwise.summaries.stores.dynamodb_layout import job_key_patterns

        role_of(fn).add_to_principal_policy(iam.PolicyStatement(sid="ReadTheTable", actions=["dynamodb:Query"], resources=[self.table.table_arn]))
        for action, keys in job_key_patterns().items():
            role_of(fn).add_to_principal_policy(
                iam.PolicyStatement(
                    sid=f"{action}OnItsItems",
                    actions=[f"dynamodb:{action}"],
                    resources=[self.table.table_arn],
                    conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": keys}},
                )
            )
        if self.config.sdk_summaries_table:
            from rollwise.summaries.sdk.layout import KEY_PREFIX

            # The SDK's table: only its summary model's items, put and deleted in batches; nothing else in it.
            sdk_table = self.format_arn(service="dynamodb", resource="table", resource_name=self.config.sdk_summaries_table)
            role_of(fn).add_to_principal_policy(
                iam.PolicyStatement(
                    sid="BatchWriteItemOnTheSdkSummaries",
                    actions=["dynamodb:BatchWriteItem"],
                    resources=[sdk_table],
                    conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [KEY_PREFIX + "*"]}},
                )
            )

    def _merge_permissions(self, fn: lambda_.Function) -> None:
        """Exactly what the layout says the job lists, reads, writes and deletes."""
        layout = MergeSettings(root=self.config.runs_root, raw_prefix=self.config.raw_prefix).layout
        arn = self.bucket.bucket_arn
        patterns = layout.object_patterns()
        prefixes = layout.listed_prefixes()
        # obstore sends the folder as s3:prefix (``runs/raw/``); the bucket's root sends none, so then
        # listing cannot be narrowed.
        conditions = None if "" in prefixes else {"StringLike": {"s3:prefix": prefixes}}
        role_of(fn).add_to_principal_policy(
            iam.PolicyStatement(sid="ListRawFilesAndAggregates", actions=["s3:ListBucket"], resources=[arn], conditions=conditions)
        )
        role_of(fn).add_to_principal_policy(
            iam.PolicyStatement(sid="ReadRawFilesAndAggregates", actions=["s3:GetObject"], resources=[f"{arn}/{p}" for p in patterns["read"]])
        )
        role_of(fn).add_to_principal_policy(
            iam.PolicyStatement(sid="WriteAggregatesArchiveQuarantine", actions=["s3:PutObject"], resources=[f"{arn}/{p}" for p in patterns["write"]])
        )
        role_of(fn).add_to_principal_policy(
            iam.PolicyStatement(sid="DeleteArchivedRawFiles", actions=["s3:DeleteObject"], resources=[f"{arn}/{p}" for p in patterns["delete"]])
        )
        if self.config.archive_mode == "bundle":
            # A large bundle goes up in parts; a failed upload is aborted.
            role_of(fn).add_to_principal_policy(
                iam.PolicyStatement(sid="AbortBundleUploads", actions=["s3:AbortMultipartUpload"], resources=[f"{arn}/{layout.bundles}*"])
            )

    # -- stream ingest ---------------------------------------------------------------
    def _ingest(self, code: lambda_.Code, arch: lambda_.Architecture, common_env: dict[str, str]) -> lambda_.Function:
        """The ingest function on an existing table's stream: batches with partial failure
        reporting, bisected on error, retried, then sent to a queue, never blocking the shard."""
        config = self.config
        fn = self._function(
            "IngestStream",
            handler=INGEST_HANDLER,
            memory=SUMMARIES_MEMORY_MB,
            code=code,
            arch=arch,
            env={
                **common_env,
                **self._summaries_env(),
                **environment(IngestSettings, mapping=config.ingest_mapping, on_remove=config.ingest_on_remove),
            },
            reserved=None,
        )
        self.ingest_failures = sqs.Queue(
            self, "IngestFailures", retention_period=Duration.days(14), enforce_ssl=True, encryption=sqs.QueueEncryption.SQS_MANAGED
        )
        fn.add_event_source_mapping(
            "FromSourceStream",
            event_source_arn=config.source_stream_arn,
            # From now on: what the table held before is read by `rollwise summaries import`.
            starting_position=lambda_.StartingPosition.LATEST,
            batch_size=config.ingest_batch_size,
            bisect_batch_on_error=True,
            retry_attempts=config.ingest_max_retries,
            report_batch_item_failures=True,
            on_failure=sources.SqsDlq(self.ingest_failures),
        )
        role_of(fn).add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadTheSourceStream",
                actions=["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"],
                resources=[config.source_stream_arn],
            )
        )
        from rollwise.summaries.stores.dynamodb_layout import ingest_key_patterns

        for action, keys in ingest_key_patterns().items():
            role_of(fn).add_to_principal_policy(
                iam.PolicyStatement(
                    sid=f"{action}OnItsItems",
                    actions=[f"dynamodb:{action}"],
                    resources=[self.table.table_arn],
                    conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": keys}},
                )
            )
        self._alarm(
            "IngestFailed",
            self.ingest_failures.metric_approximate_number_of_messages_visible(period=Duration.minutes(5)),
            1,
            "rollwise ingest: stream records failed every retry and wait in the IngestFailures queue",
        )
        return fn

    # -- the read API -------------------------------------------------------------------
    def _api(self, code: lambda_.Code, arch: lambda_.Architecture, common_env: dict[str, str]) -> None:
        """The read API: its function (reads only), an HTTP API whose JWT authorizer verifies every token,
        stage throttling, access logs, CORS from config, and an alarm on 5xx answers."""
        from aws_cdk import aws_apigatewayv2 as apigw
        from aws_cdk import aws_apigatewayv2_authorizers as authorizers
        from aws_cdk import aws_apigatewayv2_integrations as integrations
        from aws_cdk import aws_cognito as cognito

        config = self.config
        issuer, audience = config.api_issuer, config.api_audience
        if not issuer:
            pool = cognito.UserPool(
                self,
                "ApiUsers",
                self_sign_up_enabled=False,
                removal_policy=RemovalPolicy.RETAIN,
                custom_attributes={"tenant_id": cognito.StringAttribute(mutable=False)},
            )
            client = pool.add_client("ApiClient", auth_flows=cognito.AuthFlow(user_srp=True), generate_secret=False)
            cognito.CfnUserPoolGroup(
                self,
                "ApiAdmins",
                user_pool_id=pool.user_pool_id,
                group_name=config.api_admin_group,
                description="rollwise: reads every tenant and the merge job's windows",
            )
            issuer = f"https://cognito-idp.{self.region}.amazonaws.com/{pool.user_pool_id}"
            audience = client.user_pool_client_id
            CfnOutput(self, "ApiUserPoolId", value=pool.user_pool_id)
            CfnOutput(self, "ApiClientId", value=client.user_pool_client_id)
        from aws_cdk import aws_secretsmanager as secretsmanager

        from rollwise.api.settings import ApiSettings

        # One key for page cursors, shared by every instance of the function (a random key per instance would refuse a
        # cursor whenever the next page reaches another instance). CloudFormation resolves it into the environment at
        # deploy: nothing to fetch at a cold start, no request for the role. It only signs positions in the caller's own
        # tenant's pages, so its being readable in the function's configuration gives no access to anything.
        cursor_key = secretsmanager.Secret(
            self,
            "ApiCursorKey",
            description="rollwise read API: the key page cursors are signed with",
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=64, exclude_punctuation=True),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.api_fn = self._function(
            "ReadApi",
            handler=API_HANDLER,
            memory=256,
            code=code,
            arch=arch,
            env={
                **common_env,
                **self._summaries_env(),
                **environment(MergeSettings, bucket=self.bucket.bucket_name, root=config.runs_root),
                **environment(
                    ApiSettings,
                    tenant_claim=config.api_tenant_claim,
                    admin_group=config.api_admin_group,
                    cursor_secret=cursor_key.secret_value.unsafe_unwrap(),
                ),
            },
            reserved=None,
        )
        self._api_permissions(self.api_fn)
        origins = [o.strip() for o in config.api_cors_origins.split(",") if o.strip()]
        cors = (
            apigw.CorsPreflightOptions(
                allow_origins=origins,
                allow_methods=[apigw.CorsHttpMethod.GET],
                allow_headers=["Authorization", "If-None-Match", "Accept"],
                expose_headers=["ETag"],
                max_age=Duration.hours(1),
            )
            if origins
            else None
        )
        api = apigw.HttpApi(
            self,
            "ReadHttpApi",
            description="rollwise read API",
            cors_preflight=cors,
            create_default_stage=False,
            default_authorizer=authorizers.HttpJwtAuthorizer(
                "Tokens", issuer, jwt_audience=[audience], identity_source=["$request.header.Authorization"]
            ),
            default_integration=integrations.HttpLambdaIntegration("ToReadApi", self.api_fn),
        )
        api.add_routes(
            path="/v1/openapi.json",
            methods=[apigw.HttpMethod.GET],
            integration=integrations.HttpLambdaIntegration("OpenApiToReadApi", self.api_fn),
            authorizer=apigw.HttpNoneAuthorizer(),
        )
        access = logs.LogGroup(self, "ReadApiAccessLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY)
        stage = apigw.HttpStage(
            self,
            "ReadApiStage",
            http_api=api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigw.ThrottleSettings(rate_limit=config.api_throttle_rate, burst_limit=config.api_throttle_burst),
        )
        cast(apigw.CfnStage, stage.node.default_child).add_property_override(
            "AccessLogSettings",
            {  # one JSON line per request, never the token
                "DestinationArn": access.log_group_arn,
                "Format": '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","sub":"$context.authorizer.claims.sub",'
                '"route":"$context.routeKey","status":"$context.status","latency":"$context.responseLatency",'
                '"authorizerError":"$context.authorizer.error"}',
            },
        )
        self._alarm(
            "ReadApiServerErrors",
            stage.metric_server_error(period=Duration.minutes(5), statistic="Sum"),
            1,
            "rollwise read API: answers with a 5xx status",
        )
        # The endpoint from the API id (a Ref), as API Gateway builds it: the same value as the ApiEndpoint attribute
        CfnOutput(self, "ApiUrl", value=f"https://{api.api_id}.execute-api.{self.region}.{self.url_suffix}")
        CfnOutput(self, "ApiFunction", value=self.api_fn.function_name)

    def _api_permissions(self, fn: lambda_.Function) -> None:
        """Reads only: Query and GetItem on record, settings and marker keys of the table, Query on the tenant
        indexes (summaries only); ListBucket on the root, raw and quarantine folders, GetObject on aggregates and window rows."""
        from rollwise.summaries.stores.dynamodb_layout import INDEXES, api_key_patterns

        for action, keys in api_key_patterns().items():
            role_of(fn).add_to_principal_policy(
                iam.PolicyStatement(
                    sid=f"{action}OnItsItems",
                    actions=[f"dynamodb:{action}"],
                    resources=[self.table.table_arn],
                    conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": keys}},
                )
            )
        role_of(fn).add_to_principal_policy(
            iam.PolicyStatement(
                sid="QueryTheTenantIndexes", actions=["dynamodb:Query"], resources=[f"{self.table.table_arn}/index/{name}" for name in INDEXES]
            )
        )
        side = MergeSettings(root=self.config.runs_root, raw_prefix=self.config.raw_prefix).layout.read_side()
        arn = self.bucket.bucket_arn
        role_of(fn).add_to_principal_policy(
            iam.PolicyStatement(
                sid="ListAggregatesAndBacklog",
                actions=["s3:ListBucket"],
                resources=[arn],
                conditions=None if "" in side["list"] else {"StringLike": {"s3:prefix": side["list"]}},
            )
        )
        role_of(fn).add_to_principal_policy(
            iam.PolicyStatement(sid="ReadAggregates", actions=["s3:GetObject"], resources=[f"{arn}/{p}" for p in side["read"]])
        )

    # -- SQL ---------------------------------------------------------------------------
    def _sql_tables(self) -> None:
        """Glue tables over the merge job's records and window rows, partitioned by day with
        partition projection: Athena finds every day's folder with no crawler and no MSCK."""
        layout = MergeSettings(root=self.config.runs_root, raw_prefix=self.config.raw_prefix).layout
        database = glue.CfnDatabase(
            self,
            "SqlDatabase",
            catalog_id=self.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self.config.database, description="rollwise: the merge job's records and windows"
            ),
        )
        for name, prefix, columns in (("records", layout.records, RECORD_COLUMNS), ("windows", layout.windows, WINDOW_COLUMNS)):
            location = f"s3://{self.bucket.bucket_name}/{prefix}"
            table = glue.CfnTable(
                self,
                f"{name.title()}Table",
                catalog_id=self.account,
                database_name=self.config.database,
                table_input=glue.CfnTable.TableInputProperty(
                    name=name,
                    table_type="EXTERNAL_TABLE",
                    description=f"rollwise: {'one row per object of every merged run file' if name == 'records' else 'one row per merged window'}",
                    partition_keys=[glue.CfnTable.ColumnProperty(name="dt", type="string", comment="the day the window starts (UTC)")],
                    parameters={
                        "classification": "json",
                        "projection.enabled": "true",
                        "projection.dt.type": "date",
                        "projection.dt.format": "yyyy-MM-dd",
                        "projection.dt.range": "2020-01-01,NOW",
                        "projection.dt.interval": "1",
                        "projection.dt.interval.unit": "DAYS",
                        "storage.location.template": location + "dt=${dt}/",
                    },
                    storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                        location=location,
                        columns=[glue.CfnTable.ColumnProperty(name=n, type=t) for n, t in columns],
                        input_format="org.apache.hadoop.mapred.TextInputFormat",
                        output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                        serde_info=glue.CfnTable.SerdeInfoProperty(serialization_library="org.openx.data.jsonserde.JsonSerDe"),
                    ),
                ),
            )
            table.add_resource_dependency(database)
        CfnOutput(self, "SqlDatabaseName", value=self.config.database)

    # -- fan-out -------------------------------------------------------------------
    def _fanout(self) -> sfn.StateMachine:
        fn = self.summaries_fn
        plan = tasks.LambdaInvoke(
            self,
            "Plan",
            lambda_function=fn,
            payload_response_only=True,
            payload=sfn.TaskInput.from_object({"action": "plan", "time": sfn.JsonPath.string_at("$.time"), "id": sfn.JsonPath.string_at("$.id")}),
        )
        shard = tasks.LambdaInvoke(
            self,
            "AggregateShard",
            lambda_function=fn,
            payload_response_only=True,
            payload=sfn.TaskInput.from_object(
                {"action": "shard", "plan": sfn.JsonPath.object_at("$.plan"), "shard": sfn.JsonPath.number_at("$.shard")}
            ),
        )
        fan = sfn.Map(
            self,
            "EachShard",
            items_path="$.shards",
            max_concurrency=self.config.fanout_concurrency,
            item_selector={"plan": sfn.JsonPath.object_at("$.plan"), "shard": sfn.JsonPath.number_at("$$.Map.Item.Value")},
            result_path="$.results",
        )
        fan.item_processor(shard)
        finalize = tasks.LambdaInvoke(
            self,
            "Finalize",
            lambda_function=fn,
            payload_response_only=True,
            payload=sfn.TaskInput.from_object(
                {"action": "finalize", "plan": sfn.JsonPath.object_at("$.plan"), "results": sfn.JsonPath.list_at("$.results")}
            ),
        )
        return sfn.StateMachine(
            self,
            "SummariesFanOut",
            definition_body=sfn.DefinitionBody.from_chainable(plan.next(fan).next(finalize)),
            timeout=Duration.hours(2),
        )

    # -- alarms --------------------------------------------------------------------
    def _alarm(
        self,
        name: str,
        metric: cw.IMetric,
        threshold: float,
        description: str,
        comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        periods: int = 1,
        missing=cw.TreatMissingData.NOT_BREACHING,
    ) -> cw.Alarm:
        alarm = cw.Alarm(
            self,
            name,
            metric=metric,
            threshold=threshold,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            comparison_operator=comparison,
            treat_missing_data=missing,
            alarm_description=description,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.alarm_topic))
        return alarm

    def _job_metric(self, name: str, service: str = RUNS_SERVICE, statistic: str = "Sum") -> cw.Metric:
        return cw.Metric(
            namespace=METRICS_NAMESPACE, metric_name=name, dimensions_map={"service": service}, statistic=statistic, period=Duration.minutes(5)
        )

    def _alarms(self) -> None:
        five = Duration.minutes(5)
        for label, fn in (("Summaries", self.summaries_fn), ("Merge", self.merge_fn)):
            self._alarm(f"{label}Errors", fn.metric_errors(period=five, statistic="Sum"), 1, f"rollwise {label}: an invocation failed")
            self._alarm(
                f"{label}NearTimeout",
                fn.metric_duration(period=five, statistic="Maximum"),
                0.8 * TIMEOUT.to_milliseconds(),
                f"rollwise {label}: a run took over 80% of its {TIMEOUT.to_seconds()} s timeout",
                comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            )
        self._alarm(
            "FilesQuarantined",
            self._job_metric("FilesQuarantined"),
            1,
            "rollwise merge: run files were quarantined (see runs/quarantine/*.error.json)",
        )
        self._alarm(
            "ArchiveFailures",
            self._job_metric("ArchiveFailures"),
            1,
            "rollwise merge: archive or delete operations failed; originals are still under raw/",
        )
        # Files pile up: closed windows the job left unfinished are 30 minutes old...
        self._alarm(
            "RawFilesPilingUp",
            self._job_metric("OldestPendingSeconds", statistic="Maximum"),
            1800,
            "rollwise merge: raw files of a window closed 30 minutes ago are still not aggregated",
        )
        # ...or the job has not run at all for 30 minutes (no invocation, so no metric either).
        self._alarm(
            "MergeNotRunning",
            self.merge_fn.metric_invocations(period=five, statistic="Sum"),
            1,
            "rollwise merge: not invoked for 30 minutes",
            comparison=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
            periods=6,
            missing=cw.TreatMissingData.BREACHING,
        )
