import type { NextConfig } from 'next';

/**
 * The console (app/) is a Next.js App Router project rooted here. `next build` type-checks it
 * with the TypeScript command line (`useTypeScriptCli`): TypeScript 7, which this repo uses, has
 * no JavaScript API for Next's in-process checker, but its `tsc` runs the same check. A type
 * error fails the build.
 */
const config: NextConfig = {
  typescript: { ignoreBuildErrors: false, tsconfigPath: 'app/tsconfig.json' },
  experimental: { useTypeScriptCli: true },
  // The console is a server-rendered control surface: no image optimisation, no telemetry.
  images: { unoptimized: true },
  poweredByHeader: false,
  reactStrictMode: true,
};

export default config;
