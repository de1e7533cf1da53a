CREATE TABLE "sessions" (
	"id" serial PRIMARY KEY NOT NULL,
	"token_hash" text NOT NULL,
	"user_id" integer NOT NULL,
	"csrf_token" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"client_address" text,
	CONSTRAINT "sessions_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" serial PRIMARY KEY NOT NULL,
	"username" text NOT NULL,
	"password_hash" text NOT NULL,
	"role" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"disabled_at" timestamp with time zone,
	"last_login_at" timestamp with time zone,
	CONSTRAINT "users_username_unique" UNIQUE("username"),
	CONSTRAINT "users_role_check" CHECK ("users"."role" in ('viewer', 'operator', 'admin'))
);
--> statement-breakpoint
CREATE TABLE "request_rollups" (
	"deployment" text NOT NULL,
	"version" text NOT NULL,
	"node" text DEFAULT '' NOT NULL,
	"bucket_start" timestamp with time zone NOT NULL,
	"bucket_seconds" integer NOT NULL,
	"total" bigint NOT NULL,
	"errors" bigint NOT NULL,
	"latency_counts" bigint[] NOT NULL,
	"latency_sum_seconds" double precision DEFAULT 0 NOT NULL,
	"cpu_seconds" double precision DEFAULT 0 NOT NULL,
	CONSTRAINT "request_rollups_deployment_version_node_bucket_start_pk" PRIMARY KEY("deployment","version","node","bucket_start"),
	CONSTRAINT "request_rollups_counts_check" CHECK ("request_rollups"."errors" >= 0 and "request_rollups"."total" >= "request_rollups"."errors")
);
--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "sessions_user_idx" ON "sessions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "request_rollups_start_idx" ON "request_rollups" USING btree ("bucket_start");