CREATE TABLE "artifacts" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"version" text NOT NULL,
	"sha256" text NOT NULL,
	"size_bytes" bigint NOT NULL,
	"handler_sha256" text,
	"inputs" jsonb NOT NULL,
	"outputs" jsonb NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "artifacts_name_version_idx" ON "artifacts" USING btree ("name","version");