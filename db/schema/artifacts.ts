import { bigint, jsonb, pgTable, serial, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { createdAt } from './columns.ts';

/**
 * Packaged models (`vigil pack`): a versioned name for content-addressed files in the artifact
 * directory. A deployment refers to `name:version` instead of a path; the file's sha256 is checked
 * against `sha256` every time it is resolved, so a corrupted or swapped file is refused.
 */
export const artifacts = pgTable(
  'artifacts',
  {
    id: serial('id').primaryKey(),
    name: text('name').notNull(),
    version: text('version').notNull(),
    /** Hex sha256 of the model file; also its file name in the artifact directory. */
    sha256: text('sha256').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    /** Hex sha256 of the handler module packed with it, if any (stored as <sha256>.ts). */
    handlerSha256: text('handler_sha256'),
    /** The model's inputs and outputs as ONNX Runtime reads them: [{name, datatype, shape}]. */
    inputs: jsonb('inputs').$type<unknown[]>().notNull(),
    outputs: jsonb('outputs').$type<unknown[]>().notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
  },
  // One row per name and version; lookups by reference use this index.
  (t) => [uniqueIndex('artifacts_name_version_idx').on(t.name, t.version)],
);

export type Artifact = typeof artifacts.$inferSelect;
export type NewArtifact = typeof artifacts.$inferInsert;
