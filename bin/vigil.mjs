#!/usr/bin/env node
// Loads vigil's TypeScript sources through tsx, so a clone runs without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../cli/vigil.ts');
