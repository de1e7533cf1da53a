ALTER TABLE "deployment_versions" ADD COLUMN "position" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "rollouts" ADD COLUMN "settings" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "rollouts" ADD COLUMN "started_by" text DEFAULT 'unknown' NOT NULL;--> statement-breakpoint
ALTER TABLE "deployment_versions" ADD CONSTRAINT "deployment_versions_state_check" CHECK ("deployment_versions"."state" in ('active', 'retired'));--> statement-breakpoint
ALTER TABLE "deployment_versions" ADD CONSTRAINT "deployment_versions_weight_check" CHECK ("deployment_versions"."weight" >= 0);