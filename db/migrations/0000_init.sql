CREATE TABLE "deployment_versions" (
	"deployment" text NOT NULL,
	"version" text NOT NULL,
	"model" text NOT NULL,
	"weight" integer DEFAULT 0 NOT NULL,
	"state" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "deployment_versions_deployment_version_pk" PRIMARY KEY("deployment","version")
);
--> statement-breakpoint
CREATE TABLE "deployments" (
	"name" text PRIMARY KEY NOT NULL,
	"config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "slos" (
	"id" text PRIMARY KEY NOT NULL,
	"deployment" text NOT NULL,
	"version" text,
	"kind" text NOT NULL,
	"objective" double precision NOT NULL,
	"window_seconds" integer NOT NULL,
	"latency_threshold_seconds" double precision,
	"description" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "slos_kind_check" CHECK ("slos"."kind" in ('availability', 'latency')),
	CONSTRAINT "slos_objective_check" CHECK ("slos"."objective" > 0 and "slos"."objective" < 1),
	CONSTRAINT "slos_window_check" CHECK ("slos"."window_seconds" > 0),
	CONSTRAINT "slos_latency_threshold_check" CHECK ("slos"."kind" <> 'latency' or coalesce("slos"."latency_threshold_seconds", 0) > 0)
);
--> statement-breakpoint
CREATE TABLE "sli_buckets" (
	"slo_id" text NOT NULL,
	"deployment" text NOT NULL,
	"version" text NOT NULL,
	"node" text DEFAULT '' NOT NULL,
	"bucket_start" timestamp with time zone NOT NULL,
	"bucket_seconds" integer NOT NULL,
	"good" bigint NOT NULL,
	"total" bigint NOT NULL,
	CONSTRAINT "sli_buckets_slo_id_version_node_bucket_start_pk" PRIMARY KEY("slo_id","version","node","bucket_start"),
	CONSTRAINT "sli_buckets_counts_check" CHECK ("sli_buckets"."good" >= 0 and "sli_buckets"."total" >= "sli_buckets"."good")
);
--> statement-breakpoint
CREATE TABLE "alert_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"fingerprint" text NOT NULL,
	"from_state" text,
	"to_state" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "alert_events_to_state_check" CHECK ("alert_events"."to_state" in ('pending', 'firing', 'resolved'))
);
--> statement-breakpoint
CREATE TABLE "alerts" (
	"fingerprint" text PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"name" text NOT NULL,
	"severity" text NOT NULL,
	"slo_id" text,
	"labels" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"annotations" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"state" text NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"acknowledged_by" text,
	"acknowledged_at" timestamp with time zone,
	"silenced_until" timestamp with time zone,
	CONSTRAINT "alerts_state_check" CHECK ("alerts"."state" in ('pending', 'firing', 'resolved')),
	CONSTRAINT "alerts_source_check" CHECK ("alerts"."source" in ('vigil', 'alertmanager'))
);
--> statement-breakpoint
CREATE TABLE "incidents" (
	"id" serial PRIMARY KEY NOT NULL,
	"title" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"severity" text NOT NULL,
	"alert_fingerprint" text,
	"opened_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone,
	CONSTRAINT "incidents_status_check" CHECK ("incidents"."status" in ('open', 'resolved'))
);
--> statement-breakpoint
CREATE TABLE "runbook_executions" (
	"id" serial PRIMARY KEY NOT NULL,
	"runbook_id" integer NOT NULL,
	"step_id" integer,
	"actor" text NOT NULL,
	"status" text NOT NULL,
	"request" jsonb NOT NULL,
	"result" jsonb,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "runbook_steps" (
	"id" serial PRIMARY KEY NOT NULL,
	"runbook_id" integer NOT NULL,
	"position" integer NOT NULL,
	"title" text NOT NULL,
	"kind" text NOT NULL,
	"action" jsonb,
	CONSTRAINT "runbook_steps_kind_check" CHECK ("runbook_steps"."kind" in ('note', 'action'))
);
--> statement-breakpoint
CREATE TABLE "runbooks" (
	"id" serial PRIMARY KEY NOT NULL,
	"slug" text NOT NULL,
	"title" text NOT NULL,
	"body_md" text DEFAULT '' NOT NULL,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"alert_names" text[] DEFAULT '{}'::text[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "runbooks_slug_unique" UNIQUE("slug")
);
--> statement-breakpoint
CREATE TABLE "rollouts" (
	"id" serial PRIMARY KEY NOT NULL,
	"deployment" text NOT NULL,
	"stable_version" text NOT NULL,
	"canary_version" text NOT NULL,
	"status" text DEFAULT 'Progressing' NOT NULL,
	"steps" integer[] NOT NULL,
	"step_index" integer DEFAULT 0 NOT NULL,
	"interval_seconds" integer NOT NULL,
	"canary_weight" integer DEFAULT 0 NOT NULL,
	"reason" text,
	"analysis" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rollouts_status_check" CHECK ("rollouts"."status" in ('Progressing', 'Paused', 'Promoted', 'RolledBack', 'Aborted')),
	CONSTRAINT "rollouts_canary_weight_check" CHECK ("rollouts"."canary_weight" between 0 and 100)
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"target" text NOT NULL,
	"before" jsonb,
	"after" jsonb
);
--> statement-breakpoint
CREATE TABLE "webhook_outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"receiver" text NOT NULL,
	"url" text NOT NULL,
	"payload" jsonb NOT NULL,
	"dedupe_key" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhook_outbox_dedupe_key_unique" UNIQUE("dedupe_key")
);
--> statement-breakpoint
CREATE TABLE "api_tokens" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"role" text NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_tokens_token_hash_unique" UNIQUE("token_hash"),
	CONSTRAINT "api_tokens_role_check" CHECK ("api_tokens"."role" in ('viewer', 'operator', 'admin'))
);
--> statement-breakpoint
ALTER TABLE "deployment_versions" ADD CONSTRAINT "deployment_versions_deployment_deployments_name_fk" FOREIGN KEY ("deployment") REFERENCES "public"."deployments"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_events" ADD CONSTRAINT "alert_events_fingerprint_alerts_fingerprint_fk" FOREIGN KEY ("fingerprint") REFERENCES "public"."alerts"("fingerprint") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incidents" ADD CONSTRAINT "incidents_alert_fingerprint_alerts_fingerprint_fk" FOREIGN KEY ("alert_fingerprint") REFERENCES "public"."alerts"("fingerprint") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runbook_executions" ADD CONSTRAINT "runbook_executions_runbook_id_runbooks_id_fk" FOREIGN KEY ("runbook_id") REFERENCES "public"."runbooks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runbook_executions" ADD CONSTRAINT "runbook_executions_step_id_runbook_steps_id_fk" FOREIGN KEY ("step_id") REFERENCES "public"."runbook_steps"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runbook_steps" ADD CONSTRAINT "runbook_steps_runbook_id_runbooks_id_fk" FOREIGN KEY ("runbook_id") REFERENCES "public"."runbooks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "slos_deployment_idx" ON "slos" USING btree ("deployment");--> statement-breakpoint
CREATE INDEX "sli_buckets_slo_start_idx" ON "sli_buckets" USING btree ("slo_id","bucket_start");--> statement-breakpoint
CREATE INDEX "alert_events_fingerprint_at_idx" ON "alert_events" USING btree ("fingerprint","at");--> statement-breakpoint
CREATE INDEX "alerts_state_updated_idx" ON "alerts" USING btree ("state","updated_at");--> statement-breakpoint
CREATE INDEX "alerts_slo_idx" ON "alerts" USING btree ("slo_id");--> statement-breakpoint
CREATE INDEX "incidents_status_opened_idx" ON "incidents" USING btree ("status","opened_at");--> statement-breakpoint
CREATE INDEX "incidents_alert_idx" ON "incidents" USING btree ("alert_fingerprint");--> statement-breakpoint
CREATE INDEX "runbook_executions_runbook_at_idx" ON "runbook_executions" USING btree ("runbook_id","at");--> statement-breakpoint
CREATE INDEX "runbook_executions_step_idx" ON "runbook_executions" USING btree ("step_id");--> statement-breakpoint
CREATE UNIQUE INDEX "runbook_steps_runbook_position_idx" ON "runbook_steps" USING btree ("runbook_id","position");--> statement-breakpoint
CREATE INDEX "runbooks_alert_names_idx" ON "runbooks" USING gin ("alert_names");--> statement-breakpoint
CREATE INDEX "runbooks_tags_idx" ON "runbooks" USING gin ("tags");--> statement-breakpoint
CREATE INDEX "rollouts_deployment_status_idx" ON "rollouts" USING btree ("deployment","status");--> statement-breakpoint
CREATE UNIQUE INDEX "rollouts_one_active_per_deployment_idx" ON "rollouts" USING btree ("deployment") WHERE "rollouts"."status" in ('Progressing', 'Paused');--> statement-breakpoint
CREATE INDEX "audit_log_at_idx" ON "audit_log" USING btree ("at","id");--> statement-breakpoint
CREATE INDEX "audit_log_actor_at_idx" ON "audit_log" USING btree ("actor","at","id");--> statement-breakpoint
CREATE INDEX "audit_log_action_at_idx" ON "audit_log" USING btree ("action","at","id");--> statement-breakpoint
CREATE INDEX "audit_log_target_at_idx" ON "audit_log" USING btree ("target","at","id");--> statement-breakpoint
CREATE INDEX "webhook_outbox_due_idx" ON "webhook_outbox" USING btree ("next_attempt_at") WHERE "webhook_outbox"."delivered_at" is null;