CREATE TABLE "cluster_nodes" (
	"instance" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"url" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL,
	"stopped_at" timestamp with time zone,
	"report" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "leadership" (
	"id" integer PRIMARY KEY NOT NULL,
	"epoch" bigint DEFAULT 0 NOT NULL,
	"holder" text,
	"acquired_at" timestamp with time zone,
	"renewed_at" timestamp with time zone,
	CONSTRAINT "leadership_single_row_check" CHECK ("leadership"."id" = 1)
);
--> statement-breakpoint
CREATE TABLE "live_buckets" (
	"node" text NOT NULL,
	"deployment" text NOT NULL,
	"version" text NOT NULL,
	"second" bigint NOT NULL,
	"requests" integer NOT NULL,
	"errors" integer NOT NULL,
	"latency_counts" integer[] NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "live_buckets_node_deployment_version_second_pk" PRIMARY KEY("node","deployment","version","second"),
	CONSTRAINT "live_buckets_counts_check" CHECK ("live_buckets"."errors" >= 0 and "live_buckets"."requests" >= "live_buckets"."errors")
);
--> statement-breakpoint
ALTER TABLE "deployment_versions" ADD COLUMN "fault" jsonb;--> statement-breakpoint
ALTER TABLE "deployment_versions" ADD COLUMN "replicas" integer;--> statement-breakpoint
ALTER TABLE "deployment_versions" ADD COLUMN "autoscale_target" integer;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "revision" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sli_buckets" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "request_rollups" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
CREATE INDEX "cluster_nodes_heartbeat_idx" ON "cluster_nodes" USING btree ("heartbeat_at");--> statement-breakpoint
CREATE INDEX "live_buckets_updated_idx" ON "live_buckets" USING btree ("updated_at");--> statement-breakpoint
CREATE INDEX "live_buckets_second_idx" ON "live_buckets" USING btree ("second");--> statement-breakpoint
CREATE INDEX "sli_buckets_updated_idx" ON "sli_buckets" USING btree ("updated_at");--> statement-breakpoint
CREATE INDEX "request_rollups_updated_idx" ON "request_rollups" USING btree ("updated_at");