ALTER TABLE "slos" DROP CONSTRAINT "slos_kind_check";--> statement-breakpoint
ALTER TABLE "slos" ADD CONSTRAINT "slos_kind_check" CHECK ("slos"."kind" in ('availability', 'latency', 'correctness'));