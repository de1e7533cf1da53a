import { defineConfig } from 'drizzle-kit';

// `npm run db:generate -- --name <what-changed>` writes the next migration into db/migrations.
// Generation needs no database: drizzle-kit diffs the schema against db/migrations/meta.
export default defineConfig({
  dialect: 'postgresql',
  schema: './db/schema/index.ts',
  out: './db/migrations',
  strict: true,
  verbose: true,
});
