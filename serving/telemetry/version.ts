import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** vigil's own version, from package.json. */
export const VIGIL_VERSION: string = (require('../../package.json') as { version: string }).version;
/** The onnxruntime-node version in use. */
export const ORT_VERSION: string = (require('onnxruntime-node/package.json') as { version: string }).version;
